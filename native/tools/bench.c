/* Time one layer, dense against structured, on one core, without Python.
 *
 *     bench LAYER_FILE [BATCH [REPEATS]]
 *
 * LAYER_FILE is written by `structlab export-layer` (format below).  The
 * program runs the structure's kernel and the dense kernel (the same C code
 * the Python package uses) on the same random batch, prints the best and
 * median time per product of each, and exits with status 1 when the two
 * results differ by more than rounding (relative 1e-3 in f32, 1e-9 in f64).
 *
 * Layer file: text lines, each array's raw little-endian bytes right after
 * its line.
 *
 *     structlab-layer 1
 *     kind sss                   dense, lowrank, csr, codebook, product, sss
 *     dtype f32                  f32 or f64
 *     shape 1000 1280            m n
 *     size stages 19             integer arguments, by name (any number)
 *     array desc i64 247         name, element type (f32 f64 i64 i32 u16 u8), count
 *     <247 x 8 bytes>
 *     ...                        the structure's arrays in kernel order
 *     array dense f32 1280000    last: the dense matrix, row-major
 *     <bytes>
 *     end
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "structlab.h"

#define MAX_ITEMS 16

typedef struct {
    char name[32];
    char type[4];
    int64_t count;
    void *data;
} Array;

typedef struct {
    char kind[16], dtype[4];
    int64_t m, n;
    char size_names[MAX_ITEMS][32];
    int64_t sizes[MAX_ITEMS];
    int n_sizes;
    Array arrays[MAX_ITEMS];
    int n_arrays;
} Layer;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "bench: %s%s\n", what, detail ? detail : "");
    exit(1);
}

static size_t item_size(const char *type)
{
    if (!strcmp(type, "f32") || !strcmp(type, "i32")) return 4;
    if (!strcmp(type, "f64") || !strcmp(type, "i64")) return 8;
    if (!strcmp(type, "u16")) return 2;
    if (!strcmp(type, "u8")) return 1;
    fail("unknown element type ", type);
    return 0;
}

static void read_layer(const char *path, Layer *layer)
{
    FILE *f = fopen(path, "rb");
    char line[256];
    if (!f) fail("cannot open ", path);
    memset(layer, 0, sizeof *layer);
    if (!fgets(line, sizeof line, f) || strncmp(line, "structlab-layer 1", 17))
        fail("not a structlab layer file (version 1): ", path);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "end", 3)) { fclose(f); return; }
        if (sscanf(line, "kind %15s", layer->kind) == 1) continue;
        if (sscanf(line, "dtype %3s", layer->dtype) == 1) continue;
        if (sscanf(line, "shape %ld %ld", (long *)&layer->m, (long *)&layer->n) == 2) continue;
        if (!strncmp(line, "size ", 5)) {
            if (layer->n_sizes == MAX_ITEMS) fail("too many sizes", 0);
            sscanf(line, "size %31s %ld", layer->size_names[layer->n_sizes],
                   (long *)&layer->sizes[layer->n_sizes]);
            layer->n_sizes++;
            continue;
        }
        if (!strncmp(line, "array ", 6)) {
            Array *a = &layer->arrays[layer->n_arrays];
            if (layer->n_arrays == MAX_ITEMS) fail("too many arrays", 0);
            if (sscanf(line, "array %31s %3s %ld", a->name, a->type, (long *)&a->count) != 3)
                fail("bad array line: ", line);
            size_t bytes = item_size(a->type) * (size_t)a->count;
            a->data = malloc(bytes ? bytes : 1);
            if (fread(a->data, 1, bytes, f) != bytes) fail("truncated array ", a->name);
            if (fgetc(f) != '\n') fail("missing newline after array ", a->name);
            layer->n_arrays++;
            continue;
        }
        fail("unknown line: ", line);
    }
    fail("missing 'end' line in ", path);
}

static void *array(const Layer *layer, const char *name)
{
    for (int i = 0; i < layer->n_arrays; ++i)
        if (!strcmp(layer->arrays[i].name, name)) return layer->arrays[i].data;
    fail("layer file lacks array ", name);
    return 0;
}

static int64_t size(const Layer *layer, const char *name)
{
    for (int i = 0; i < layer->n_sizes; ++i)
        if (!strcmp(layer->size_names[i], name)) return layer->sizes[i];
    fail("layer file lacks size ", name);
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Best and median seconds per call; each sample loops enough calls for 2 ms.
 * The loop variables carry a timing_ prefix so that they cannot capture a
 * name used inside CALL (such as a rank r). */
#define TIME_CALLS(CALL, repeats, best, median)                                \
    do {                                                                       \
        long timing_number = 1;                                                \
        double timing_samples[256], timing_start;                              \
        for (int timing_warm = 0; timing_warm < 3; ++timing_warm) { CALL; }   \
        for (;;) {                                                             \
            timing_start = now();                                              \
            for (long timing_call = 0; timing_call < timing_number;           \
                 ++timing_call) { CALL; }                                      \
            if (now() - timing_start >= 2e-3 || timing_number >= (1L << 20))  \
                break;                                                         \
            timing_number *= 2;                                                \
        }                                                                      \
        for (int timing_repeat = 0; timing_repeat < (repeats);                \
             ++timing_repeat) {                                                \
            timing_start = now();                                              \
            for (long timing_call = 0; timing_call < timing_number;           \
                 ++timing_call) { CALL; }                                      \
            timing_samples[timing_repeat] =                                    \
                (now() - timing_start) / timing_number;                        \
        }                                                                      \
        qsort(timing_samples, (repeats), sizeof *timing_samples,               \
              compare_doubles);                                                \
        best = timing_samples[0];                                              \
        median = timing_samples[(repeats) / 2];                                \
    } while (0)

#define DEFINE_RUN(T, SUFFIX)                                                  \
    static double run_##SUFFIX(const Layer *L, int64_t batch, int repeats)     \
    {                                                                          \
        const int64_t m = L->m, n = L->n;                                      \
        T *X = malloc(sizeof(T) * batch * n), *Y = malloc(sizeof(T) * batch * m); \
        T *Yd = malloc(sizeof(T) * batch * m);                                 \
        const T *W = array(L, "dense");                                        \
        void *work = 0, *work_b = 0, *work_rows = 0;                           \
        double best, median, dense_best, dense_median, diff = 0, scale = 0;    \
        srand(0);                                                              \
        for (int64_t i = 0; i < batch * n; ++i)                                \
            X[i] = (T)rand() / RAND_MAX - (T)0.5;                              \
        if (!strcmp(L->kind, "lowrank")) {                                     \
            work = malloc(sizeof(T) * size(L, "r"));                           \
        } else if (!strcmp(L->kind, "codebook") || !strcmp(L->kind, "csr")) {  \
            work = malloc(sparse_work_bytes(n, batch, sizeof(T)));             \
        } else if (!strcmp(L->kind, "product")) {                              \
            int64_t inner = size(L, "inner") * batch;                          \
            work = malloc(sizeof(T) * (inner ? inner : 1));                    \
            work_b = malloc(sizeof(T) * (inner ? inner : 1));                  \
            work_rows = malloc(sparse_work_bytes(size(L, "widest"), batch,     \
                                                 sizeof(T)));                  \
        } else if (!strcmp(L->kind, "sss")) {                                  \
            int64_t states = 2 * size(L, "max_state");                         \
            work = malloc(sizeof(T) * (states ? states : 1));                  \
        }                                                                      \
        /* every pointer and size looked up before the clock, as for dense */ \
        if (!strcmp(L->kind, "dense")) {                                       \
            const T *D = array(L, "W");                                        \
            TIME_CALLS(dense_apply_##SUFFIX(D, m, n, X, batch, Y), repeats,    \
                       best, median);                                          \
        } else if (!strcmp(L->kind, "lowrank")) {                              \
            const T *Ut = array(L, "Ut"), *V = array(L, "V");                  \
            const int64_t r = size(L, "r");                                    \
            TIME_CALLS(lowrank_apply_##SUFFIX(Ut, V, m, r, n, X, batch, Y,     \
                                              work), repeats, best, median);   \
        } else if (!strcmp(L->kind, "csr")) {                                  \
            const int32_t *indptr = array(L, "indptr");                        \
            const void *gaps = array(L, "gaps");                               \
            const int64_t gap_bytes = size(L, "gap_bytes");                    \
            const T *values = array(L, "values");                              \
            TIME_CALLS(csr_apply_##SUFFIX(indptr, gaps, gap_bytes, values, m,  \
                                          n, X, batch, Y, work),               \
                       repeats, best, median);                                 \
        } else if (!strcmp(L->kind, "codebook")) {                             \
            const int sparse = size(L, "sparse") != 0;                         \
            const uint8_t *packed = array(L, "packed");                        \
            const int32_t *row_bytes = array(L, "row_bytes");                  \
            const int64_t bits = size(L, "bits");                              \
            const T *table = array(L, "table");                                \
            const int32_t *indptr = sparse ? array(L, "indptr") : 0;           \
            const void *gaps = sparse ? array(L, "gaps") : 0;                  \
            const int64_t gap_bytes = size(L, "gap_bytes");                    \
            TIME_CALLS(codebook_apply_##SUFFIX(packed, row_bytes, bits, table, \
                       indptr, gaps, gap_bytes, m, n, X, batch, Y, work),      \
                       repeats, best, median);                                 \
        } else if (!strcmp(L->kind, "product")) {                              \
            const int64_t factors = size(L, "factors");                        \
            const int64_t *desc = array(L, "desc");                            \
            const uint8_t *index = array(L, "index");                          \
            const T *values = array(L, "values");                              \
            TIME_CALLS(product_apply_##SUFFIX(factors, desc, index, values, X, \
                       batch, Y, work, work_b, work_rows), repeats, best,      \
                       median);                                                \
        } else if (!strcmp(L->kind, "sss")) {                                  \
            const int64_t stages = size(L, "stages");                          \
            const int64_t max_state = size(L, "max_state");                    \
            const int64_t *desc = array(L, "desc");                            \
            const T *values = array(L, "values");                              \
            TIME_CALLS(sss_apply_##SUFFIX(stages, desc, values, m, n, X, batch, \
                       Y, work, max_state), repeats, best, median);            \
        } else {                                                               \
            fail("unknown kind ", L->kind);                                    \
        }                                                                      \
        TIME_CALLS(dense_apply_##SUFFIX(W, m, n, X, batch, Yd), repeats,       \
                   dense_best, dense_median);                                  \
        for (int64_t i = 0; i < batch * m; ++i) {                              \
            diff = fmax(diff, fabs((double)Y[i] - Yd[i]));                     \
            scale = fmax(scale, fabs((double)Yd[i]));                          \
        }                                                                      \
        printf("%-9s %5ld x %-5ld %s batch %-4ld dense %10.2f us (median "    \
               "%.2f)  structured %10.2f us (median %.2f)  speed-up %6.2f  "  \
               "max |difference| / max |y| %.1e\n", L->kind, (long)m,         \
               (long)n, L->dtype, (long)batch, dense_best * 1e6,              \
               dense_median * 1e6, best * 1e6, median * 1e6,                   \
               dense_best / best, scale > 0 ? diff / scale : diff);           \
        free(X); free(Y); free(Yd); free(work); free(work_b); free(work_rows);                  \
        return scale > 0 ? diff / scale : diff;                                \
    }

DEFINE_RUN(float, f32)
DEFINE_RUN(double, f64)

int main(int argc, char **argv)
{
    Layer layer;
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s LAYER_FILE [BATCH [REPEATS]]\n", argv[0]);
        return 2;
    }
    int64_t batch = argc > 2 ? atol(argv[2]) : 1;
    int repeats = argc > 3 ? atoi(argv[3]) : 15;
    if (batch < 1 || repeats < 1 || repeats > 256) fail("need BATCH >= 1 and 1 <= REPEATS <= 256", 0);
    read_layer(argv[1], &layer);
    double difference, tolerance;
    if (!strcmp(layer.dtype, "f32")) difference = run_f32(&layer, batch, repeats), tolerance = 1e-3;
    else if (!strcmp(layer.dtype, "f64")) difference = run_f64(&layer, batch, repeats), tolerance = 1e-9;
    else fail("dtype must be f32 or f64, got ", layer.dtype);
    if (!(difference <= tolerance)) {
        fprintf(stderr, "bench: the structured and dense results differ (%.1e relative)\n",
                difference);
        return 1;
    }
    return 0;
}
