// What scoring one document from the forward index costs when its vector is not in the cache.
//
// Loads a Seismic binary file (u32 n; per vector u32 nnz, u32 components, f32 values), stores it
// as lsr does (u16 components and f16 values in two arrays, u32 offsets), then scores blocks of
// 18 random documents (gcide's average among scored blocks) against a 33-term dense query (gcide's
// average query) with lsr's AVX2 kernel, under several prefetch schedules and layouts:
//   cc -O3 -I Sources/CLSRKernels/include Evaluation/microbench/forward_access.c \
//      Sources/CLSRKernels/kernels.c -o /tmp/forward_access && /tmp/forward_access docs.bin
// Prints ns per document; "cache-resident" is the compute floor (the same 18 documents again).
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsr_kernels.h"

enum { BLOCKS = 200000, BLOCK = 18, QUERY_TERMS = 33, DIMENSION = 30522 };

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint16_t *components, *values, *interleaved;  // interleaved: per document, all components then all values
static uint32_t *offsets;
static float query[1 << 16];

static void prefetch(const void *address, size_t bytes) { lsr_prefetch_range(address, bytes); }
static void prefetch_split(uint32_t d) {
    size_t n = offsets[d + 1] - offsets[d];
    prefetch(components + offsets[d], 2 * n);
    prefetch(values + offsets[d], 2 * n);
}
static float score_split(uint32_t d) {
    return lsr_dot_u16_f16(components + offsets[d], values + offsets[d], offsets[d + 1] - offsets[d], query);
}
static float score_interleaved(uint32_t d) {
    size_t n = offsets[d + 1] - offsets[d];
    const uint16_t *v = interleaved + 2 * (size_t)offsets[d];
    return lsr_dot_u16_f16(v, v + n, n, query);
}

__attribute__((target("f16c"))) static uint16_t to_half(float x) { return _cvtss_sh(x, 0); }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s DOCS.bin\n", argv[0]); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    uint32_t n, nnz;
    if (fread(&n, 4, 1, f) != 1) return 1;
    offsets = malloc((n + 1) * sizeof *offsets);
    size_t capacity = 1 << 20, total = 0;
    components = malloc(capacity * 2); values = malloc(capacity * 2);
    uint32_t *c = malloc(65536 * 4); float *v = malloc(65536 * 4);
    offsets[0] = 0;
    for (uint32_t d = 0; d < n; d++) {
        if (fread(&nnz, 4, 1, f) != 1 || nnz > 65536 || fread(c, 4, nnz, f) != nnz || fread(v, 4, nnz, f) != nnz) return 1;
        if (total + nnz > capacity) { capacity *= 2; components = realloc(components, capacity * 2); values = realloc(values, capacity * 2); }
        for (uint32_t j = 0; j < nnz; j++) { components[total + j] = (uint16_t)c[j]; values[total + j] = to_half(v[j]); }
        total += nnz;
        offsets[d + 1] = (uint32_t)total;
    }
    interleaved = malloc(total * 4);
    for (uint32_t d = 0; d < n; d++) {
        size_t k = offsets[d + 1] - offsets[d];
        memcpy(interleaved + 2 * (size_t)offsets[d], components + offsets[d], 2 * k);
        memcpy(interleaved + 2 * (size_t)offsets[d] + k, values + offsets[d], 2 * k);
    }
    srand(7);
    for (int i = 0; i < QUERY_TERMS; i++) query[rand() % DIMENSION] = 1.0f + i % 5;
    uint32_t *blocks = malloc(sizeof(uint32_t) * BLOCKS * BLOCK);
    for (size_t i = 0; i < (size_t)BLOCKS * BLOCK; i++) blocks[i] = (uint32_t)rand() % n;
    printf("%u documents, %zu nonzeros, %d random blocks of %d documents\n", n, total, BLOCKS, BLOCK);

    for (int round = 0; round < 2; round++) {
        double t;
        volatile float sink = 0;
#define MEASURE(NAME, BODY)                                                  \
    t = seconds();                                                           \
    for (int b = 0; b < BLOCKS; b++) { const uint32_t *d = blocks + b * BLOCK; BODY } \
    printf("%-44s %6.1f ns/document\n", NAME, (seconds() - t) / ((double)BLOCKS * BLOCK) * 1e9);
        MEASURE("no prefetch", for (int i = 0; i < BLOCK; i++) sink += score_split(d[i]);)
        MEASURE("prefetch the whole block, then score", for (int i = 0; i < BLOCK; i++) prefetch_split(d[i]);
                for (int i = 0; i < BLOCK; i++) sink += score_split(d[i]);)
        MEASURE("prefetch two documents ahead", prefetch_split(d[0]); prefetch_split(d[1]);
                for (int i = 0; i < BLOCK; i++) { if (i + 2 < BLOCK) prefetch_split(d[i + 2]); sink += score_split(d[i]); })
        MEASURE("interleaved layout, two ahead", for (int i = 0; i < BLOCK + 2; i++) {
                    if (i < BLOCK) prefetch(interleaved + 2 * (size_t)offsets[d[i]], 4 * (offsets[d[i] + 1] - offsets[d[i]]));
                    if (i >= 2) sink += score_interleaved(d[i - 2]); })
        MEASURE("cache-resident (compute floor)", d = blocks; for (int i = 0; i < BLOCK; i++) sink += score_split(d[i]);)
    }
    return 0;
}
