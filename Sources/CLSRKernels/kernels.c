// Dot-product kernels with a runtime choice between AVX2+FMA+F16C and portable code.
#include "lsr_kernels.h"

#include <stdlib.h>
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

AVX static inline __m256i indices_u16(const uint16_t *c) { return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)c)); }
AVX static inline __m256i indices_u32(const uint32_t *c, __m256i clamp) { return _mm256_min_epu32(_mm256_loadu_si256((const __m256i *)c), clamp); }
AVX static inline __m256 weights_f16(const uint16_t *v) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)v)); }
AVX static inline __m256 weights_f32(const float *v) { return _mm256_loadu_ps(v); }

#define AVX_DOT(INDICES, WEIGHTS, INDEX, VALUE)                                                 \
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                  \
    size_t j = 0;                                                                               \
    for (; j + 16 <= n; j += 16) {                                                              \
        a0 = _mm256_fmadd_ps(_mm256_i32gather_ps(query, INDICES(j), 4), WEIGHTS(j), a0);        \
        a1 = _mm256_fmadd_ps(_mm256_i32gather_ps(query, INDICES(j + 8), 4), WEIGHTS(j + 8), a1); \
    }                                                                                           \
    if (j + 8 <= n) {                                                                           \
        a0 = _mm256_fmadd_ps(_mm256_i32gather_ps(query, INDICES(j), 4), WEIGHTS(j), a0);        \
        j += 8;                                                                                 \
    }                                                                                           \
    float s = horizontal_sum(_mm256_add_ps(a0, a1));                                            \
    for (; j < n; j++) s += query[INDEX(j)] * VALUE(j);                                         \
    return s;

#define I16(j) indices_u16(components + (j))
#define I32(j) indices_u32(components + (j), clampv)
#define W16(j) weights_f16(values + (j))
#define W32(j) weights_f32(values + (j))

AVX static float avx_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query) { AVX_DOT(I16, W16, NARROW, HALF) }
AVX static float avx_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query) { AVX_DOT(I16, W32, NARROW, SINGLE) }
AVX static float avx_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp) {
    __m256i clampv = _mm256_set1_epi32((int)clamp);
    AVX_DOT(I32, W16, WIDE, HALF)
}
AVX static float avx_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp) {
    __m256i clampv = _mm256_set1_epi32((int)clamp);
    AVX_DOT(I32, W32, WIDE, SINGLE)
}

static int vectorized = 0;
__attribute__((constructor)) static void choose_kernels(void) {
    __builtin_cpu_init();
    vectorized = getenv("LSR_PORTABLE") == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
#endif

float lsr_dot_u16_f16(const uint16_t *components, const uint16_t *values, size_t n, const float *query) {
#if LSR_X86
    if (vectorized) return avx_u16_f16(components, values, n, query);
#endif
    return portable_u16_f16(components, values, n, query);
}

float lsr_dot_u16_f32(const uint16_t *components, const float *values, size_t n, const float *query) {
#if LSR_X86
    if (vectorized) return avx_u16_f32(components, values, n, query);
#endif
    return portable_u16_f32(components, values, n, query);
}

float lsr_dot_u32_f16(const uint32_t *components, const uint16_t *values, size_t n, const float *query, uint32_t clamp) {
#if LSR_X86
    if (vectorized) return avx_u32_f16(components, values, n, query, clamp);
#endif
    return portable_u32_f16(components, values, n, query, clamp);
}

float lsr_dot_u32_f32(const uint32_t *components, const float *values, size_t n, const float *query, uint32_t clamp) {
#if LSR_X86
    if (vectorized) return avx_u32_f32(components, values, n, query, clamp);
#endif
    return portable_u32_f32(components, values, n, query, clamp);
}
