#ifndef LSR_KERNELS_H
#define LSR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Asks the CPU to start loading the cache line holding `address` (a hint: never faults).
/// Swift has no prefetch intrinsic; this inlines to one `prefetcht0` instruction.
static inline __attribute__((always_inline)) void lsr_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Prefetches every cache line of `bytes` bytes from `address`.
static inline __attribute__((always_inline)) void lsr_prefetch_range(const void *address, size_t bytes) {
    const char *p = (const char *)address;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

/// Sparse-dense dot products: sum over j < n of query[component[j]] * value[j].
///
/// Components index `query` directly (u16: `query` must hold 65,536 floats); u32 components are
/// clamped to `clamp` (whose query slot must be zero). Values are IEEE half bits (`f16`) or floats
/// (`f32`). On x86-64 CPUs with AVX2, FMA and F16C the kernels gather eight query weights at a time
/// and convert halves in hardware; elsewhere a portable loop runs. Within one process every call
/// uses the same kernel, so equal inputs give bit-identical results.
float lsr_dot_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query);
float lsr_dot_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query);
float lsr_dot_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp);
float lsr_dot_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp);

/// 1 when the vectorized kernels are in use. They are chosen once at program start, unless the
/// environment variable LSR_PORTABLE is set (to compare kernels, or to rule them out).
int lsr_kernels_vectorized(void);

#endif
