// Dot-product, accumulation and builder kernels, with a runtime choice between AVX2+FMA+F16C
// and portable code.
#include "lsr_kernels.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define LSR_X86 1
#else
#define LSR_X86 0
#endif

/// Exact half → float for finite halves (see HalfPrecision.swift for the derivation).
static inline float half_to_float(uint16_t h) {
    uint32_t magnitude = (uint32_t)(h & 0x7fff) << 13;
    float f;
    memcpy(&f, &magnitude, 4);
    f *= 0x1p112f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits |= (uint32_t)(h & 0x8000) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

#define PORTABLE_DOT(INDEX, VALUE)                                   \
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;                            \
    size_t j = 0;                                                    \
    for (; j + 4 <= n; j += 4) {                                     \
        s0 += query[INDEX(j)] * VALUE(j);                            \
        s1 += query[INDEX(j + 1)] * VALUE(j + 1);                    \
        s2 += query[INDEX(j + 2)] * VALUE(j + 2);                    \
        s3 += query[INDEX(j + 3)] * VALUE(j + 3);                    \
    }                                                                \
    for (; j < n; j++) s0 += query[INDEX(j)] * VALUE(j);             \
    return (s0 + s1) + (s2 + s3);

#define NARROW(j) components[j]
#define WIDE(j) (components[j] < clamp ? components[j] : clamp)
#define HALF(j) half_to_float(values[j])
#define SINGLE(j) values[j]

static float portable_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query) { PORTABLE_DOT(NARROW, HALF) }
static float portable_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query) { PORTABLE_DOT(NARROW, SINGLE) }
static float portable_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp) { PORTABLE_DOT(WIDE, HALF) }
static float portable_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp) { PORTABLE_DOT(WIDE, SINGLE) }

#if LSR_X86
#define AVX __attribute__((target("avx2,fma,f16c")))

AVX static inline float horizontal_sum(__m256 v) {
    __m128 low = _mm256_castps256_ps128(v), high = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(low, high);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

AVX static inline __m256 weights_f16(const uint16_t *v) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)v)); }
AVX static inline __m256 weights_f32(const float *v) { return _mm256_loadu_ps(v); }

// Eight query weights, two ways with the same result. Scalar loads: on the AMD EPYC, vpgatherdd
// is slower than eight loads (Evaluation/microbench/dot_kernels.c: 75-84 vs 89-126 ns per cached
// document). A gather: on the Intel Xeon (Sapphire Rapids class), 117 vs 164 ns per uncached and
// 39 vs 49 per cached document (same microbenchmark, best of three runs).
#define QUERY8(INDEX, j)                                                                          \
    _mm256_set_ps(query[INDEX((j) + 7)], query[INDEX((j) + 6)], query[INDEX((j) + 5)], query[INDEX((j) + 4)], \
                  query[INDEX((j) + 3)], query[INDEX((j) + 2)], query[INDEX((j) + 1)], query[INDEX(j)])

#define GATHER8_NARROW(j) _mm256_i32gather_ps(query, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(components + (j)))), 4)
#define GATHER8_WIDE(j) \
    _mm256_i32gather_ps(query, _mm256_min_epu32(_mm256_loadu_si256((const __m256i *)(components + (j))), _mm256_set1_epi32((int)clamp)), 4)

#define AVX_DOT(WEIGHTS, QUERY, INDEX, VALUE)                                                          \
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                  \
    size_t j = 0;                                                                               \
    for (; j + 16 <= n; j += 16) {                                                              \
        a0 = _mm256_fmadd_ps(QUERY(j), WEIGHTS(j), a0);                                         \
        a1 = _mm256_fmadd_ps(QUERY(j + 8), WEIGHTS(j + 8), a1);                                 \
    }                                                                                           \
    if (j + 8 <= n) {                                                                           \
        a0 = _mm256_fmadd_ps(QUERY(j), WEIGHTS(j), a0);                                         \
        j += 8;                                                                                 \
    }                                                                                           \
    float s = horizontal_sum(_mm256_add_ps(a0, a1));                                            \
    for (; j < n; j++) s += query[INDEX(j)] * VALUE(j);                                         \
    return s;

#define W16(j) weights_f16(values + (j))
#define W32(j) weights_f32(values + (j))

#define LOADS8_NARROW(j) QUERY8(NARROW, j)
#define LOADS8_WIDE(j) QUERY8(WIDE, j)

AVX static float avx_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query) { AVX_DOT(W16, LOADS8_NARROW, NARROW, HALF) }
AVX static float avx_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query) { AVX_DOT(W32, LOADS8_NARROW, NARROW, SINGLE) }
AVX static float avx_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp) { AVX_DOT(W16, LOADS8_WIDE, WIDE, HALF) }
AVX static float avx_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp) { AVX_DOT(W32, LOADS8_WIDE, WIDE, SINGLE) }
AVX static float gather_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query) { AVX_DOT(W16, GATHER8_NARROW, NARROW, HALF) }
AVX static float gather_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query) { AVX_DOT(W32, GATHER8_NARROW, NARROW, SINGLE) }
AVX static float gather_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp) { AVX_DOT(W16, GATHER8_WIDE, WIDE, HALF) }
AVX static float gather_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp) { AVX_DOT(W32, GATHER8_WIDE, WIDE, SINGLE) }

AVX static void avx_accumulate_f16(const uint32_t *documents, const uint16_t *values, size_t n, float weight, float *scores, uint64_t *seen, uint32_t limit) {
    float converted[8] __attribute__((aligned(32)));
    __m256 w = _mm256_set1_ps(weight);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        _mm256_store_ps(converted, _mm256_mul_ps(w, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(values + j)))));
        for (int i = 0; i < 8; i++) {
            uint32_t d = documents[j + i];
            if (d >= limit) continue;
            seen[d >> 6] |= (uint64_t)1 << (d & 63);
            scores[d] += converted[i];
        }
    }
    for (; j < n; j++) {
        uint32_t d = documents[j];
        if (d >= limit) continue;
        seen[d >> 6] |= (uint64_t)1 << (d & 63);
        scores[d] += weight * half_to_float(values[j]);
    }
}

/// Converts the first n − n mod 8 halves; returns how many.
AVX static size_t decode_halves_f16c(const uint16_t *halves, float *out, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(halves + j))));
    return j;
}

/// Vector part of lsr_positions_above: whole groups of 8 from *i on, while 8 more fit.
AVX static size_t avx_positions_above(const float *scores, size_t *i, size_t n, float threshold, uint32_t *out, size_t capacity) {
    size_t j = *i, found = 0;
    __m256 t = _mm256_set1_ps(threshold);
    for (; j + 8 <= n && found + 8 <= capacity; j += 8) {
        unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(scores + j), t, _CMP_GT_OQ));
        while (mask) {
            out[found++] = (uint32_t)(j + __builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
    *i = j;
    return found;
}

static int vectorized = 0;
/// Whether the dot products gather the query weights (Intel) or load them one by one (others);
/// the results are the same. LSR_DOT_QUERY=gather|loads overrides the choice.
static int gathers = 0;
__attribute__((constructor)) static void choose_kernels(void) {
    __builtin_cpu_init();
    vectorized = getenv("LSR_PORTABLE") == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    const char *choice = getenv("LSR_DOT_QUERY");
    gathers = choice ? strcmp(choice, "gather") == 0 : __builtin_cpu_is("intel");
}
#endif

float lsr_dot_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query) {
#if LSR_X86
    if (vectorized) return gathers ? gather_u16_f16(components, values, n, query) : avx_u16_f16(components, values, n, query);
#endif
    return portable_u16_f16(components, values, n, query);
}

float lsr_dot_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query) {
#if LSR_X86
    if (vectorized) return gathers ? gather_u16_f32(components, values, n, query) : avx_u16_f32(components, values, n, query);
#endif
    return portable_u16_f32(components, values, n, query);
}

float lsr_dot_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp) {
#if LSR_X86
    if (vectorized) return gathers && clamp <= INT32_MAX ? gather_u32_f16(components, values, n, query, clamp) : avx_u32_f16(components, values, n, query, clamp);
#endif
    return portable_u32_f16(components, values, n, query, clamp);
}

float lsr_dot_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp) {
#if LSR_X86
    if (vectorized) return gathers && clamp <= INT32_MAX ? gather_u32_f32(components, values, n, query, clamp) : avx_u32_f32(components, values, n, query, clamp);
#endif
    return portable_u32_f32(components, values, n, query, clamp);
}

#define ACCUMULATE(VALUE)                                       \
    for (size_t j = 0; j < n; j++) {                            \
        uint32_t d = documents[j];                              \
        if (d >= limit) continue;                               \
        seen[d >> 6] |= (uint64_t)1 << (d & 63);                \
        scores[d] += weight * VALUE(j);                         \
    }

void lsr_decode_halves(const uint16_t *halves, float *out, size_t n) {
    size_t j = 0;
#if LSR_X86
    if (vectorized) {
        j = decode_halves_f16c(halves, out, n);
    }
#endif
    for (; j < n; j++) out[j] = half_to_float(halves[j]);
}

void lsr_accumulate_f16(const uint32_t *documents, const uint16_t *values, size_t n, float weight, float *scores, uint64_t *seen, uint32_t limit) {
#if LSR_X86
    if (vectorized) { avx_accumulate_f16(documents, values, n, weight, scores, seen, limit); return; }
#endif
    ACCUMULATE(HALF)
}

void lsr_accumulate_f32(const uint32_t *documents, const float *values, size_t n, float weight, float *scores, uint64_t *seen, uint32_t limit) {
    ACCUMULATE(SINGLE)
}

/// Positions i in [start, n) with scores[i] > threshold, in ascending order, at most `capacity`
/// of them into `out`; returns how many and sets *next to where a further call resumes (n when
/// the scan is complete). Each call with capacity ≥ 1 and start < n makes progress.
size_t lsr_positions_above(const float *scores, size_t start, size_t n, float threshold, uint32_t *out, size_t capacity, size_t *next) {
    size_t i = start, found = 0;
#if LSR_X86
    if (vectorized && capacity >= 8) {
        found = avx_positions_above(scores, &i, n, threshold, out, capacity);
        if (found + 8 > capacity) {
            *next = i;
            return found;
        }
    }
#endif
    for (; i < n && found < capacity; i++) {
        if (scores[i] > threshold) out[found++] = (uint32_t)i;
    }
    *next = i;
    return found;
}

uint8_t lsr_touch_pages(const void *address, size_t bytes, size_t page) {
    const volatile uint8_t *start = (const volatile uint8_t *)address;
    uint8_t folded = 0;
    for (size_t offset = 0; offset < bytes; offset += page) folded ^= start[offset];
    return folded;
}

// MARK: Builder kernels

// Scores are sums of separately rounded products, as Swift computes them: no contraction to FMA.
#pragma clang fp contract(off)

/// First allowed k with the largest scores[k] > 0, or -1.
static int32_t first_best(const float *scores, size_t count, const _Bool *allowed) {
    int32_t best = -1;
    float best_score = 0;
    for (size_t k = 0; k < count; k++) {
        if (scores[k] > best_score && (!allowed || allowed[k])) {
            best = (int32_t)k;
            best_score = scores[k];
        }
    }
    return best;
}

#define BEST_CENTROID(DENSE_ADD, BEST)                                                        \
    memset(scores, 0, count * sizeof(float));                                               \
    for (size_t j = 0; j < n; j++) {                                                        \
        int32_t slot = slot_of[components[j]] - 1;                                          \
        if (slot < 0) continue;                                                             \
        float v = values[j];                                                                \
        ptrdiff_t start = entry_start[slot], end = entry_start[slot + 1];                   \
        if ((size_t)(end - start) == count) {                                               \
            DENSE_ADD(scores, v, entry_value + start, count);                               \
        } else {                                                                            \
            for (ptrdiff_t e = start; e < end; e++) scores[entry_centroid[e]] += v * entry_value[e]; \
        }                                                                                   \
    }                                                                                       \
    return BEST(scores, count, allowed);

static inline void portable_dense_add(float *scores, float v, const float *w, size_t count) {
    for (size_t k = 0; k < count; k++) scores[k] += v * w[k];
}

static int32_t portable_best_centroid(const uint32_t *components, const float *values, size_t n, const int32_t *slot_of,
                                      const ptrdiff_t *entry_start, const int32_t *entry_centroid, const float *entry_value,
                                      float *scores, size_t count, const _Bool *allowed) {
    BEST_CENTROID(portable_dense_add, first_best)
}

#if LSR_X86
AVX static inline void avx_dense_add(float *scores, float v, const float *w, size_t count) {
    __m256 weight = _mm256_set1_ps(v);
    size_t k = 0;
    for (; k + 8 <= count; k += 8) {
        __m256 product = _mm256_mul_ps(weight, _mm256_loadu_ps(w + k));
        _mm256_storeu_ps(scores + k, _mm256_add_ps(_mm256_loadu_ps(scores + k), product));
    }
    for (; k < count; k++) scores[k] += v * w[k];
}

/// `first_best` for `allowed == NULL`: the maximum eight lanes at a time, then its first index.
AVX static inline int32_t avx_first_best(const float *scores, size_t count, const _Bool *allowed) {
    if (allowed) return first_best(scores, count, allowed);
    __m256 maximum = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 8 <= count; k += 8) maximum = _mm256_max_ps(maximum, _mm256_loadu_ps(scores + k));
    float lanes[8], best_score = 0;
    _mm256_storeu_ps(lanes, maximum);
    for (int i = 0; i < 8; i++) best_score = lanes[i] > best_score ? lanes[i] : best_score;
    for (; k < count; k++) best_score = scores[k] > best_score ? scores[k] : best_score;
    if (!(best_score > 0)) return -1;
    __m256 target = _mm256_set1_ps(best_score);
    for (k = 0; k + 8 <= count; k += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(scores + k), target, _CMP_EQ_OQ));
        if (mask) return (int32_t)(k + (size_t)__builtin_ctz((unsigned)mask));
    }
    for (; k < count; k++) {
        if (scores[k] == best_score) return (int32_t)k;
    }
    return -1;
}

AVX static int32_t avx_best_centroid(const uint32_t *components, const float *values, size_t n, const int32_t *slot_of,
                                     const ptrdiff_t *entry_start, const int32_t *entry_centroid, const float *entry_value,
                                     float *scores, size_t count, const _Bool *allowed) {
    BEST_CENTROID(avx_dense_add, avx_first_best)
}
#endif

int32_t lsr_best_centroid(const uint32_t *components, const float *values, size_t n, const int32_t *slot_of,
                          const ptrdiff_t *entry_start, const int32_t *entry_centroid, const float *entry_value,
                          float *scores, size_t count, const _Bool *allowed) {
#if LSR_X86
    if (vectorized) return avx_best_centroid(components, values, n, slot_of, entry_start, entry_centroid, entry_value, scores, count, allowed);
#endif
    return portable_best_centroid(components, values, n, slot_of, entry_start, entry_centroid, entry_value, scores, count, allowed);
}

static void insertion_sort_u64(uint64_t *keys, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint64_t key = keys[i];
        size_t j = i;
        for (; j > 0 && keys[j - 1] > key; j--) keys[j] = keys[j - 1];
        keys[j] = key;
    }
}

static void sift_down_u64(uint64_t *keys, size_t root, size_t n) {
    uint64_t key = keys[root];
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && keys[child + 1] > keys[child]) child++;
        if (keys[child] <= key) break;
        keys[root] = keys[child];
    }
    keys[root] = key;
}

static void heap_sort_u64(uint64_t *keys, size_t n) {
    for (size_t i = n / 2; i-- > 0;) sift_down_u64(keys, i, n);
    for (size_t end = n; end-- > 1;) {
        uint64_t top = keys[0];
        keys[0] = keys[end];
        keys[end] = top;
        sift_down_u64(keys, 0, end);
    }
}

static inline void swap_u64(uint64_t *a, uint64_t *b) {
    uint64_t t = *a;
    *a = *b;
    *b = t;
}

static void intro_sort_u64(uint64_t *keys, size_t n, int depth) {
    while (n > 24) {
        if (depth-- == 0) {
            heap_sort_u64(keys, n);
            return;
        }
        // Median of first, middle, last to keys[0]; Hoare partition around it.
        size_t mid = n / 2;
        if (keys[mid] < keys[0]) swap_u64(&keys[mid], &keys[0]);
        if (keys[n - 1] < keys[0]) swap_u64(&keys[n - 1], &keys[0]);
        if (keys[n - 1] < keys[mid]) swap_u64(&keys[n - 1], &keys[mid]);
        swap_u64(&keys[0], &keys[mid]);
        uint64_t pivot = keys[0];
        size_t i = 0, j = n;
        for (;;) {
            do i++; while (i < n && keys[i] < pivot);
            do j--; while (keys[j] > pivot);
            if (i >= j) break;
            swap_u64(&keys[i], &keys[j]);
        }
        swap_u64(&keys[0], &keys[j]);
        // Recurse into the smaller side, loop on the larger: O(log n) stack.
        size_t left = j, right = n - j - 1;
        if (left < right) {
            intro_sort_u64(keys, left, depth);
            keys += j + 1;
            n = right;
        } else {
            intro_sort_u64(keys + j + 1, right, depth);
            n = left;
        }
    }
    insertion_sort_u64(keys, n);
}

void lsr_sort_u64(uint64_t *keys, size_t n) {
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1) depth += 2;
    intro_sort_u64(keys, n, depth);
}

/// Restores the min-heap order of `heap[0 ..< n]` below `root`.
static void sift_down_min_u64(uint64_t *heap, size_t root, size_t n) {
    uint64_t key = heap[root];
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= key) break;
        heap[root] = heap[child];
    }
    heap[root] = key;
}

void lsr_heaviest_positions(const void *values, size_t value_width, size_t n, size_t k, uint64_t *heap, uint32_t *positions) {
    if (k > n) k = n;
    if (k == 0) return;
    // A min-heap of the k largest keys so far: (weight bits << 32 | ~position), so that among
    // equal weights the lower position is the larger key.
    size_t size = 0;
    for (size_t p = 0; p < n; p++) {
        uint64_t bits = value_width == 2 ? ((const uint16_t *)values)[p] : ((const uint32_t *)values)[p];
        uint64_t key = bits << 32 | (uint32_t)~(uint32_t)p;
        if (size < k) {
            size_t i = size++;
            while (i > 0 && heap[(i - 1) / 2] > key) {
                heap[i] = heap[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            heap[i] = key;
        } else if (key > heap[0]) {
            heap[0] = key;
            sift_down_min_u64(heap, 0, k);
        }
    }
    // Smallest first out of the heap, written from the back: heaviest first.
    for (size_t i = k; i-- > 0;) {
        positions[i] = ~(uint32_t)heap[0];
        heap[0] = heap[i];
        sift_down_min_u64(heap, 0, i);
    }
}

void lsr_order_distinct_components(const uint32_t *components, size_t n, uint64_t *bitmap, uint32_t *position, uint64_t *keys, uint32_t *order) {
    if (n == 0) return;
    uint32_t low = UINT32_MAX, high = 0;
    for (size_t j = 0; j < n; j++) {
        uint32_t word = components[j] >> 6;
        low = word < low ? word : low;
        high = word > high ? word : high;
    }
    if ((size_t)(high - low) > 8 * n + 64) {
        // Ids spread far apart (a large vocabulary): scanning the bitmap would cost more than sorting.
        for (size_t j = 0; j < n; j++) keys[j] = (uint64_t)components[j] << 32 | j;
        lsr_sort_u64(keys, n);
        for (size_t k = 0; k < n; k++) order[k] = (uint32_t)keys[k];
        return;
    }
    for (size_t j = 0; j < n; j++) {
        uint32_t c = components[j];
        bitmap[c >> 6] |= (uint64_t)1 << (c & 63);
        position[c] = (uint32_t)j;
    }
    size_t k = 0;
    for (uint32_t word = low; word <= high; word++) {
        uint64_t bits = bitmap[word];
        bitmap[word] = 0;
        while (bits) {
            order[k++] = position[(word << 6) | (uint32_t)__builtin_ctzll(bits)];
            bits &= bits - 1;
        }
    }
}

void lsr_encode_f16_portable(const float *values, uint16_t *halves, size_t n) {
    for (size_t j = 0; j < n; j++) {
        _Float16 h = (_Float16)values[j];
        memcpy(&halves[j], &h, sizeof h);
    }
}

#if LSR_X86
AVX static void avx_encode_f16(const float *values, uint16_t *halves, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        _mm_storeu_si128((__m128i *)(halves + j), _mm256_cvtps_ph(_mm256_loadu_ps(values + j), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; j < n; j++) halves[j] = (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(values[j]), _MM_FROUND_TO_NEAREST_INT), 0);
}
#endif

void lsr_encode_f16(const float *values, uint16_t *halves, size_t n) {
#if LSR_X86
    if (vectorized) { avx_encode_f16(values, halves, n); return; }
#endif
    lsr_encode_f16_portable(values, halves, n);
}

void lsr_rename_vector(const uint32_t *source, size_t n, const uint32_t *rename, void *values, size_t value_width, void *out,
                       size_t component_width, ptrdiff_t *counts, uint64_t *bitmap, uint32_t *position, uint64_t *keys, uint32_t *order,
                       uint32_t *renamed, void *permuted) {
    int ascending = 1;
    for (size_t j = 0; j < n; j++) {
        uint32_t c = rename[source[j]];
        if (j > 0 && renamed[j - 1] >= c) ascending = 0;
        renamed[j] = c;
    }
    if (!ascending) {
        lsr_order_distinct_components(renamed, n, bitmap, position, keys, order);
        if (value_width == 2) {
            uint16_t *from = values, *to = permuted;
            for (size_t k = 0; k < n; k++) to[k] = from[order[k]];
        } else {
            uint32_t *from = values, *to = permuted;
            for (size_t k = 0; k < n; k++) to[k] = from[order[k]];
        }
        memcpy(values, permuted, n * value_width);
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t c = ascending ? renamed[k] : renamed[order[k]];
        counts[c] += 1;
        if (component_width == 2) {
            ((uint16_t *)out)[k] = (uint16_t)c;
        } else {
            ((uint32_t *)out)[k] = c;
        }
    }
}
