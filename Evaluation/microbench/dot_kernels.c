// Dot-product kernel variants on a Seismic binary forward index stored as lsr stores it (u16
// components, f16 values): ns per document, uncached (blocks of 18 random documents, two-ahead
// prefetch) and cache-resident, against a 25-term query drawn from a random document:
//   cc -O3 -I Sources/CLSRKernels/include Evaluation/microbench/dot_kernels.c
//      Sources/CLSRKernels/kernels.c -lm -o /tmp/dot_kernels && /tmp/dot_kernels docs.bin
// "lsr_dot_u16_f16" is the kernel of the tree it is built against; "avx2 gather" is lsr's kernel
// before 2026-11-23 (vpgatherdd, slow on the AMD EPYC of the benchmark machine).
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lsr_kernels.h"

enum { BLOCKS = 200000, BLOCK = 18, QUERY_TERMS = 25, DIMENSION = 25415 };
static double seconds(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static uint16_t *components, *values;
static uint32_t *offsets;
static float query[1 << 16];
static uint8_t slots[1 << 16];
static float slot_weights[256];
static uint16_t qcomp[64]; static float qval[64]; static int qn;

#define AVX __attribute__((target("avx2,fma,f16c")))
AVX static float scalar_f16c(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t j = 0;
    float w[8] __attribute__((aligned(32)));
    for (; j + 8 <= n; j += 8) {
        _mm256_store_ps(w, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j))));
        s0 += q[c[j]] * w[0]; s1 += q[c[j + 1]] * w[1]; s2 += q[c[j + 2]] * w[2]; s3 += q[c[j + 3]] * w[3];
        s0 += q[c[j + 4]] * w[4]; s1 += q[c[j + 5]] * w[5]; s2 += q[c[j + 6]] * w[6]; s3 += q[c[j + 7]] * w[7];
    }
    for (; j < n; j++) s0 += q[c[j]] * _cvtsh_ss(v[j]);
    return (s0 + s1) + (s2 + s3);
}
AVX static float avx_gather(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 = _mm256_fmadd_ps(_mm256_i32gather_ps(q, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(c + j))), 4), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j))), a0);
        a1 = _mm256_fmadd_ps(_mm256_i32gather_ps(q, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(c + j + 8))), 4), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j + 8))), a1);
    }
    a0 = _mm256_add_ps(a0, a1);
    __m128 lo = _mm256_castps256_ps128(a0), hi = _mm256_extractf128_ps(a0, 1);
    __m128 s = _mm_add_ps(lo, hi); s = _mm_add_ps(s, _mm_movehl_ps(s, s)); s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float r = _mm_cvtss_f32(s);
    for (; j < n; j++) r += q[c[j]] * _cvtsh_ss(v[j]);
    return r;
}
// AVX-512: one 16-lane accumulator whose halves are the AVX2 kernel's two (same sums, same order).
__attribute__((target("avx512f,avx2,fma,f16c"))) static float avx512_gather(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    __m512 a = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        a = _mm512_fmadd_ps(_mm512_i32gather_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(c + j))), q, 4),
                            _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + j))), a);
    __m256 a0 = _mm512_castps512_ps256(a), a1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
    if (j + 8 <= n) {
        a0 = _mm256_fmadd_ps(_mm256_i32gather_ps(q, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(c + j))), 4), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j))), a0);
        j += 8;
    }
    a0 = _mm256_add_ps(a0, a1);
    __m128 lo = _mm256_castps256_ps128(a0), hi = _mm256_extractf128_ps(a0, 1);
    __m128 s = _mm_add_ps(lo, hi); s = _mm_add_ps(s, _mm_movehl_ps(s, s)); s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float r = _mm_cvtss_f32(s);
    for (; j < n; j++) r += q[c[j]] * _cvtsh_ss(v[j]);
    return r;
}
// Gathers 8 query weights with scalar loads into a vector, then one FMA.
AVX static float scalar_gather(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    __m256 a0 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 qw = _mm256_set_ps(q[c[j + 7]], q[c[j + 6]], q[c[j + 5]], q[c[j + 4]], q[c[j + 3]], q[c[j + 2]], q[c[j + 1]], q[c[j]]);
        a0 = _mm256_fmadd_ps(qw, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j))), a0);
    }
    __m128 lo = _mm256_castps256_ps128(a0), hi = _mm256_extractf128_ps(a0, 1);
    __m128 s = _mm_add_ps(lo, hi); s = _mm_add_ps(s, _mm_movehl_ps(s, s)); s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float r = _mm_cvtss_f32(s);
    for (; j < n; j++) r += q[c[j]] * _cvtsh_ss(v[j]);
    return r;
}
AVX static float scalar_gather2(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256 q0 = _mm256_set_ps(q[c[j + 7]], q[c[j + 6]], q[c[j + 5]], q[c[j + 4]], q[c[j + 3]], q[c[j + 2]], q[c[j + 1]], q[c[j]]);
        __m256 q1 = _mm256_set_ps(q[c[j + 15]], q[c[j + 14]], q[c[j + 13]], q[c[j + 12]], q[c[j + 11]], q[c[j + 10]], q[c[j + 9]], q[c[j + 8]]);
        a0 = _mm256_fmadd_ps(q0, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j))), a0);
        a1 = _mm256_fmadd_ps(q1, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j + 8))), a1);
    }
    if (j + 8 <= n) {
        __m256 q0 = _mm256_set_ps(q[c[j + 7]], q[c[j + 6]], q[c[j + 5]], q[c[j + 4]], q[c[j + 3]], q[c[j + 2]], q[c[j + 1]], q[c[j]]);
        a0 = _mm256_fmadd_ps(q0, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + j))), a0);
        j += 8;
    }
    a0 = _mm256_add_ps(a0, a1);
    __m128 lo = _mm256_castps256_ps128(a0), hi = _mm256_extractf128_ps(a0, 1);
    __m128 s = _mm_add_ps(lo, hi); s = _mm_add_ps(s, _mm_movehl_ps(s, s)); s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float r = _mm_cvtss_f32(s);
    for (; j < n; j++) r += q[c[j]] * _cvtsh_ss(v[j]);
    return r;
}
// Compares 16 document components at a time with each query component (query ≤ 64 terms).
AVX static float intersect(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    (void)q;
    float s = 0;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i dc = _mm256_loadu_si256((const __m256i *)(c + j));
        __m256i any = _mm256_setzero_si256();
        for (int i = 0; i < qn; i++) any = _mm256_or_si256(any, _mm256_cmpeq_epi16(dc, _mm256_set1_epi16((short)qcomp[i])));
        unsigned mask = (unsigned)_mm256_movemask_epi8(any);
        while (mask) {
            int k = __builtin_ctz(mask) >> 1;
            mask &= ~(3u << (2 * k));
            s += query[c[j + k]] * _cvtsh_ss(v[j + k]);
        }
    }
    for (; j < n; j++) s += query[c[j]] * _cvtsh_ss(v[j]);
    return s;
}
// u8 slot table (64 KiB, L1/L2) instead of the float query.
AVX static float slot_scalar(const uint16_t *c, const uint16_t *v, size_t n, const float *q) {
    (void)q;
    float s0 = 0, s1 = 0;
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
        uint8_t a = slots[c[j]], b = slots[c[j + 1]];
        if (a) s0 += slot_weights[a] * _cvtsh_ss(v[j]);
        if (b) s1 += slot_weights[b] * _cvtsh_ss(v[j + 1]);
    }
    for (; j < n; j++) { uint8_t a = slots[c[j]]; if (a) s0 += slot_weights[a] * _cvtsh_ss(v[j]); }
    return s0 + s1;
}

typedef float (*kernel)(const uint16_t *, const uint16_t *, size_t, const float *);
static float run(kernel k, uint32_t d) { return k(components + offsets[d], values + offsets[d], offsets[d + 1] - offsets[d], query); }
static void prefetch_doc(uint32_t d) { size_t n = offsets[d + 1] - offsets[d]; lsr_prefetch_range(components + offsets[d], 2 * n); lsr_prefetch_range(values + offsets[d], 2 * n); }
__attribute__((target("f16c"))) static uint16_t to_half(float x) { return _cvtss_sh(x, 0); }

int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    uint32_t n, nnz;
    if (!f || fread(&n, 4, 1, f) != 1) return 1;
    offsets = malloc((n + 1) * sizeof *offsets);
    size_t capacity = 1 << 20, total = 0;
    components = malloc(capacity * 2); values = malloc(capacity * 2);
    uint32_t *c = malloc(65536 * 4); float *v = malloc(65536 * 4);
    offsets[0] = 0;
    for (uint32_t d = 0; d < n; d++) {
        if (fread(&nnz, 4, 1, f) != 1 || fread(c, 4, nnz, f) != nnz || fread(v, 4, nnz, f) != nnz) return 1;
        if (total + nnz > capacity) { capacity *= 2; components = realloc(components, capacity * 2); values = realloc(values, capacity * 2); }
        for (uint32_t j = 0; j < nnz; j++) { components[total + j] = (uint16_t)c[j]; values[total + j] = to_half(v[j]); }
        total += nnz; offsets[d + 1] = (uint32_t)total;
    }
    srand(7);
    // Query: terms drawn from a random document (so documents share terms with it).
    uint32_t qd = rand() % n;
    for (uint32_t j = offsets[qd]; j < offsets[qd + 1] && qn < QUERY_TERMS; j++) {
        qcomp[qn] = components[j]; qval[qn] = 1.0f + qn % 5; query[components[j]] = qval[qn]; slots[components[j]] = (uint8_t)(qn + 1); slot_weights[qn + 1] = qval[qn]; qn++;
    }
    uint32_t *blocks = malloc(sizeof(uint32_t) * BLOCKS * BLOCK);
    for (size_t i = 0; i < (size_t)BLOCKS * BLOCK; i++) blocks[i] = (uint32_t)rand() % n;
    // Check agreement.
    for (int i = 0; i < 1000; i++) {
        float a = run(avx_gather, blocks[i]), b = run(scalar_f16c, blocks[i]), g = run(scalar_gather, blocks[i]), x = run(intersect, blocks[i]), y = run(slot_scalar, blocks[i]), z = run(lsr_dot_u16_f16, blocks[i]);
        if (fabsf(a - b) > 1e-3f * (1 + a) || fabsf(a - x) > 1e-3f * (1 + a) || fabsf(a - y) > 1e-3f * (1 + a) || fabsf(a - g) > 1e-3f * (1 + a) || fabsf(a - z) > 1e-3f * (1 + a)) { printf("mismatch %f %f %f %f %f %f\n", a, b, g, x, y, z); return 1; }
    }
    kernel kernels[] = {lsr_dot_u16_f16, avx512_gather, avx_gather, scalar_f16c, scalar_gather, scalar_gather2, intersect, slot_scalar};
    const char *names[] = {"lsr_dot_u16_f16", "avx512 gather", "avx2 gather", "scalar loads, f16c", "scalar loads into vector", "scalar into 2 vectors", "intersect 16 at a time", "u8 slot table"};
    enum { KERNELS = sizeof kernels / sizeof *kernels };
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < KERNELS; k++) {
            volatile float sink = 0;
            double t = seconds();
            for (int b = 0; b < BLOCKS; b++) { const uint32_t *d = blocks + b * BLOCK; prefetch_doc(d[0]); prefetch_doc(d[1]);
                for (int i = 0; i < BLOCK; i++) { if (i + 2 < BLOCK) prefetch_doc(d[i + 2]); sink += run(kernels[k], d[i]); } }
            double uncached = (seconds() - t) / ((double)BLOCKS * BLOCK) * 1e9;
            t = seconds();
            for (int b = 0; b < BLOCKS; b++) { const uint32_t *d = blocks; for (int i = 0; i < BLOCK; i++) sink += run(kernels[k], d[i]); }
            double cached = (seconds() - t) / ((double)BLOCKS * BLOCK) * 1e9;
            printf("%-28s uncached %6.1f  cached %6.1f ns/document\n", names[k], uncached, cached);
        }
    }
    return 0;
}
