#ifndef LSR_KERNELS_H
#define LSR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Asks the CPU to start loading every cache line that holds a byte of `address ..< address +
/// bytes` (a hint: never faults). Swift has no prefetch intrinsic; each line is one `prefetcht0`.
static inline __attribute__((always_inline)) void lsr_prefetch_range(const void *address, size_t bytes) {
    if (bytes == 0) return;
    uintptr_t line = (uintptr_t)address & ~(uintptr_t)63, end = (uintptr_t)address + bytes;
    for (; line < end; line += 64) __builtin_prefetch((const void *)line, 0, 3);
}

/// Reads one byte of every `page`-byte page of `address ..< address + bytes` with the CPU and
/// returns their XOR (so that no read is optimized away). Mapping a page is not enough for a
/// virtual machine: its first read by the guest can still exit to the hypervisor; these reads
/// pay that ahead of time. The reads do not depend on each other, so their cache and TLB
/// misses overlap.
uint8_t lsr_touch_pages(const void *address, size_t bytes, size_t page);

/// Sparse-dense dot products: sum over j < n of query[component[j]] * value[j].
///
/// Components index `query` directly (u16: `query` must hold 65,536 floats); u32 components are
/// clamped to `clamp` (whose query slot must be zero). Values are IEEE half bits (`f16`) or floats
/// (`f32`). On x86-64 CPUs with AVX2, FMA and F16C the kernels load eight query weights at a time
/// and convert halves in hardware; elsewhere a portable loop runs. Within one process every call
/// uses the same kernel, so equal inputs give bit-identical results. The kernel is chosen once at
/// program start; setting the environment variable LSR_PORTABLE forces the portable one (to
/// compare kernels, or to rule them out).
float lsr_dot_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query);
float lsr_dot_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query);
float lsr_dot_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp);
float lsr_dot_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp);

/// Term-at-a-time accumulation of one posting list: for each j < n with documents[j] < limit,
/// scores[documents[j]] += weight * values[j] and the document's bit in `seen` is set. Values are
/// half bits (`f16`) or floats (`f32`); halves are converted eight at a time where the CPU has F16C.
void lsr_accumulate_f16(const uint32_t *documents, const uint16_t *values, size_t n, float weight, float *scores, uint64_t *seen, uint32_t limit);
void lsr_accumulate_f32(const uint32_t *documents, const float *values, size_t n, float weight, float *scores, uint64_t *seen, uint32_t limit);

/// The positions of the `k` heaviest of the `n` weights at `values` (`value_width` 2: f16 bits,
/// 4: f32 bits; positive weights, whose bits order like them), heaviest first, ties to the lower
/// position, into `positions` (min(k, n) of them). `heap` is scratch for k keys. O(n log k).
void lsr_heaviest_positions(const void *values, size_t value_width, size_t n, size_t k, uint64_t *heap, uint32_t *positions);

/// Sorts `keys[0 ..< n]` ascending (not stable: equal keys are indistinguishable). Introsort:
/// quicksort on a median of three, insertion sort for short runs, heapsort past a depth limit, so
/// O(n log n) on any input. The builder's per-vector sorts pack (component << 32 | payload) keys.
void lsr_sort_u64(uint64_t *keys, size_t n);

/// Orders a vector's distinct components: writes to `order[0 ..< n]` the positions j of
/// `components[j]` in ascending component order. Through a bitmap, without comparisons, in
/// O(n + (largest − smallest component) / 64): several times faster than sorting packed keys
/// for the ~100-entry vectors of learned sparse models over a BERT-size vocabulary; when the
/// ids spread over more than 8n + 64 words, by sorting packed keys in `keys` instead. `bitmap`
/// (one bit per component id, all zero; all zero again on return) and `position` (one slot per
/// component id) are scratch sized for the largest id, `keys` for n.
void lsr_order_distinct_components(const uint32_t *components, size_t n, uint64_t *bitmap, uint32_t *position, uint64_t *keys, uint32_t *order);

/// Rounds `n` floats to half precision (nearest, ties to even; IEEE 754 binary16, subnormals
/// kept) and writes their bits: with F16C when the vectorized kernels are chosen (see above),
/// else with `lsr_encode_f16_portable`, which gives identical results.
void lsr_encode_f16(const float *values, uint16_t *halves, size_t n);
/// The compiler's float → half conversion, whatever the CPU (what the tests compare with).
void lsr_encode_f16_portable(const float *values, uint16_t *halves, size_t n);

/// Random-centroid clustering's assignment step for one document: the centroid k < count with
/// the largest score Σ values[j] · entry_value[e], over j < n and the entries e of
/// `entry_start[s] ..< entry_start[s + 1]` with entry_centroid[e] = k, where s + 1 =
/// slot_of[components[j]] (0: no centroid has the component; the entries of a slot are in
/// ascending centroid order, at most one per centroid). Only centroids with `allowed[k]` count
/// (NULL: all); ties go to the lower k; -1 when no allowed centroid scores above 0. `scores`
/// (count floats) is scratch. Each score is accumulated in the order of j, one rounded product
/// and one rounded sum per term (never fused), so every kernel returns the same centroid as the
/// plain loop; where a slot holds a full row of `count` entries (entry s + k is centroid k's,
/// `entry_centroid` not read: the builder pads the slots of components a quarter of the
/// centroids have, with zero weights, since adding v × 0 = +0 changes no score) it is added
/// eight centroids at a time. Values and entry values must be finite and not negative (no NaN:
/// the vectorized maximum would skip it).
int32_t lsr_best_centroid(const uint32_t *components, const float *values, size_t n, const int32_t *slot_of,
                          const ptrdiff_t *entry_start, const int32_t *entry_centroid, const float *entry_value,
                          float *scores, size_t count, const _Bool *allowed);

/// Renames one vector for the canonical forward index: its n components `source[j]` become
/// `rename[source[j]]`, its entries are put in ascending new-id order (`lsr_order_distinct_components`;
/// the weights at `values`, `value_width` bytes each, permuted in place through `permuted`), the
/// new ids are written to `out` at `component_width` bytes (2 or 4) each, and each is counted in
/// `counts`. The components of a vector are distinct. Scratch: `bitmap` and `position` as for
/// `lsr_order_distinct_components` (sized for the largest new id), `keys`, `order` and `renamed`
/// for n entries, `permuted` for n weights.
void lsr_rename_vector(const uint32_t *source, size_t n, const uint32_t *rename, void *values, size_t value_width, void *out,
                       size_t component_width, ptrdiff_t *counts, uint64_t *bitmap, uint32_t *position, uint64_t *keys, uint32_t *order,
                       uint32_t *renamed, void *permuted);

/// Positions i in [start, n) with scores[i] > threshold (NaN never), ascending, at most `capacity`
/// of them into `out`; returns how many and sets *next to where the next call resumes (n once
/// the scan is complete; every call with capacity ≥ 1 and start < n makes progress). A scan of
/// a dense score array for the few values above a cutoff (vectorized when capacity ≥ 8).
size_t lsr_positions_above(const float *scores, size_t start, size_t n, float threshold, uint32_t *out, size_t capacity, size_t *next);

/// Decodes n IEEE half-precision values (bits) to floats: F16C eight at a time where available,
/// else the exact portable conversion (the same floats for finite halves).
void lsr_decode_halves(const uint16_t *halves, float *out, size_t n);

#endif
