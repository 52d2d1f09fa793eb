/* Sparse (CSR) products, and the row engine the codebook kernels share
 * (layout in rows.h): one multiply-add per stored entry.
 *
 * Each row's relative positions are first turned into int32 columns
 * (a running sum, one add per entry, into `work`), then:
 *
 *   batch < BATCH_PATH   per input vector, one pass over the row that decodes
 *                        the gaps as it multiplies: a scalar loop with four
 *                        independent sums (one add on the column, three
 *                        loads and a multiply-add per entry).  Decoding into
 *                        `work` first and then gathering took twice as long
 *                        (MobileNetV2's classifier at 10 %: 197 us against
 *                        the dense kernel's 83 us).
 *   batch >= BATCH_PATH  X is first transposed into `work` (n x batch), so
 *                        that an entry at column j multiplies the contiguous
 *                        row X^T[j, :] into the row's batch of sums: a
 *                        vector multiply-add across the batch per entry, no
 *                        gathers, X^T read from cache.  64 batch-1 passes
 *                        would read the row's numbers 64 times instead.
 *
 * The same engine gives the transposed product (out = G W, the gradient of
 * the input) by scattering instead of gathering, and the gradient of every
 * stored number (sum over the batch of G[b, i] X[b, j]).  Left alone, GCC
 * vectorizes the drivers' loops anyway (in-order reductions over gathers),
 * which made the two-entry rows of a butterfly factor 5-10x slower; the
 * drivers are therefore compiled without auto-vectorization, and only the
 * loops in their own (not inlined) functions below use SIMD.
 */
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "rows.h"
#include "structlab.h"

enum { BATCH_PATH = 4, SHORT_ROW = 16 };
#if defined(__GNUC__) && !defined(__clang__)
#define NO_AUTO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#define NOINLINE __attribute__((noinline))
#else
#define NO_AUTO_VECTORIZE
#define NOINLINE
#endif

int64_t sparse_work_bytes(int64_t n, int64_t batch, int64_t itemsize)
{
    /* X^T and out^T (n x batch each), a batch of sums, a row's numbers
     * (<= n), its int32 columns and its unpacked indices (+ a spare word). */
    return itemsize * (2 * n * batch + batch + n) + 4 * n + n + 16;
}

#define GAP_DOT(G)                                                            \
    G *g = (G *)R->gaps + start;                                              \
    for (; q + 4 <= count; q += 4) {                                          \
        col += g[q] + 1;     a0 += w[q] * x[col];                             \
        col += g[q + 1] + 1; a1 += w[q + 1] * x[col];                         \
        col += g[q + 2] + 1; a2 += w[q + 2] * x[col];                         \
        col += g[q + 3] + 1; a3 += w[q + 3] * x[col];                         \
    }                                                                         \
    for (; q < count; ++q) {                                                  \
        col += g[q] + 1;     a0 += w[q] * x[col];                             \
    }

/* Every row of a CSR matrix for a batch below BATCH_PATH, the gap type G
 * fixed and the layout in locals: a short row (a butterfly factor's two
 * entries) inline, a long one through gap_dot.  Reading the layout from `R`
 * and calling a function per row made the 1024-point Hadamard transform as
 * CSR factors 2.5x slower. */
#define CSR_ROWS(T, SUFFIX, G)                                                \
    {                                                                         \
        const int32_t *indptr = R->indptr;                                    \
        G *gaps = (G *)R->gaps;                                               \
        const T *values = (const T *)R->values;                               \
        for (int64_t r = 0; r < m; ++r) {                                     \
            const int64_t start = indptr[r], count = indptr[r + 1] - start;   \
            for (int64_t b = 0; b < batch; ++b) {                             \
                const T *x = X + b * n;                                       \
                T acc = 0;                                                    \
                if (count >= SHORT_ROW) {                                     \
                    acc = gap_dot_##SUFFIX(R, start, count, values + start, x); \
                } else {                                                      \
                    int64_t col = -1;                                         \
                    for (int64_t q = start; q < start + count; ++q) {         \
                        col += gaps[q] + 1;                                   \
                        acc += values[q] * x[col];                            \
                    }                                                         \
                }                                                             \
                Y[b * m + r] = acc;                                           \
            }                                                                 \
        }                                                                     \
    }

static void decode_columns(const Rows *R, int64_t start, int64_t count, int32_t *cols)
{
    int32_t col = -1;
    if (R->gap_bytes == 1) {
        const uint8_t *g = (const uint8_t *)R->gaps + start;
        for (int64_t q = 0; q < count; ++q)
            cols[q] = col += (int32_t)g[q] + 1;
    } else {
        const uint16_t *g = (const uint16_t *)R->gaps + start;
        for (int64_t q = 0; q < count; ++q)
            cols[q] = col += (int32_t)g[q] + 1;
    }
}

/* out[q] = table[k[q]]: a gather per entry, or, for float32 with at most 16
 * shared values on AVX2, two in-register permutations and a blend per 8
 * entries (the table lives in two vector registers).  On MobileNetV2's
 * classifier at 4 bits the gathers made a batch-1 product 768 us. */
static void lookup_f64(const uint8_t *restrict k, const double *restrict table, int64_t count,
                       int64_t bits, double *restrict out)
{
    (void)bits;
    _Pragma("omp simd")
    for (int64_t q = 0; q < count; ++q)
        out[q] = table[k[q]];
}

static void lookup_f32(const uint8_t *restrict k, const float *restrict table, int64_t count,
                       int64_t bits, float *restrict out)
{
    int64_t q = 0;
#if defined(__AVX2__)
    if (bits <= 4) {
        const __m256 lo = _mm256_loadu_ps(table), hi = _mm256_loadu_ps(table + 8);
        const __m256i seven = _mm256_set1_epi32(7);
        for (; q + 8 <= count; q += 8) {
            const __m256i index = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(k + q)));
            const __m256 upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, seven));
            _mm256_storeu_ps(out + q, _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, index),
                                                       _mm256_permutevar8x32_ps(hi, index),
                                                       upper));
        }
    }
#else
    (void)bits;
#endif
    _Pragma("omp simd")
    for (int64_t r = q; r < count; ++r)
        out[r] = table[k[r]];
}

#define DEFINE_ROWS(T, SUFFIX)                                                \
    typedef struct {                                                          \
        T *xt, *ot, *g, *w;                                                   \
        int32_t *cols;                                                        \
        uint8_t *k;                                                           \
    } Work_##SUFFIX;                                                          \
                                                                              \
    static Work_##SUFFIX split_##SUFFIX(void *work, int64_t n, int64_t batch) \
    {                                                                         \
        Work_##SUFFIX s;                                                      \
        s.xt = (T *)work;                                                     \
        s.ot = s.xt + n * batch;                                              \
        s.g = s.ot + n * batch;                                               \
        s.w = s.g + batch;                                                    \
        s.cols = (int32_t *)(s.w + n);                                        \
        s.k = (uint8_t *)(s.cols + n);                                        \
        return s;                                                             \
    }                                                                         \
                                                                              \
    /* Row i's numbers and (if need_cols) columns (NULL: 0 .. n-1); returns \
     * its length.  Not inlined: its loops vectorize, the drivers' do not. */ \
    static NOINLINE int64_t row_##SUFFIX(const Rows *R, int64_t i,            \
                                         Work_##SUFFIX *s, int need_cols,     \
                                         const T **w, const int32_t **cols)   \
    {                                                                         \
        const int64_t start = R->indptr ? R->indptr[i] : i * R->n;            \
        const int64_t count = R->indptr ? R->indptr[i + 1] - start : R->n;    \
        *cols = 0;                                                            \
        if (R->indptr && need_cols) {                                         \
            decode_columns(R, start, count, s->cols);                         \
            *cols = s->cols;                                                  \
        }                                                                     \
        if (R->values) {                                                      \
            *w = (const T *)R->values + start;                                \
        } else {                                                              \
            const T *table = (const T *)R->table;                             \
            unpack_indices(R->packed + R->row_bytes[i], count, (int)R->bits,  \
                           s->k);                                             \
            lookup_##SUFFIX(s->k, table, count, R->bits, s->w);               \
            *w = s->w;                                                        \
        }                                                                     \
        return count;                                                         \
    }                                                                         \
                                                                              \
    static void transpose_##SUFFIX(const T *A, int64_t rows, int64_t cols,    \
                                   T *At)                                     \
    {                                                                         \
        for (int64_t i = 0; i < rows; ++i)                                    \
            for (int64_t j = 0; j < cols; ++j)                                \
                At[j * rows + i] = A[i * cols + j];                           \
    }                                                                         \
                                                                              \
    /* sum_q w[q] x[q] as four interleaved sums: one vector sum waits on    \
     * its own additions (a dense codebook row took 2.5x longer). */          \
    static NOINLINE T dense_dot_##SUFFIX(const T *w, const T *x,             \
                                         int64_t count)                       \
    {                                                                         \
        const int64_t h = count / 4;                                          \
        T a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                     \
        _Pragma("omp simd reduction(+:a0, a1, a2, a3)")                       \
        for (int64_t q = 0; q < h; ++q) {                                     \
            a0 += w[q] * x[q];                                                \
            a1 += w[q + h] * x[q + h];                                        \
            a2 += w[q + 2 * h] * x[q + 2 * h];                                \
            a3 += w[q + 3 * h] * x[q + 3 * h];                                \
        }                                                                     \
        for (int64_t q = 4 * h; q < count; ++q)                               \
            a0 += w[q] * x[q];                                                \
        return (a0 + a1) + (a2 + a3);                                         \
    }                                                                         \
                                                                              \
    /* sum_q w[q] x[col_q], the columns decoded from the gaps on the way. */  \
    static NOINLINE T gap_dot_##SUFFIX(const Rows *R, int64_t start,          \
                                       int64_t count, const T *w, const T *x) \
    {                                                                         \
        T a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                     \
        int64_t col = -1, q = 0;                                              \
        if (R->gap_bytes == 1) {                                              \
            GAP_DOT(const uint8_t)                                            \
        } else {                                                              \
            GAP_DOT(const uint16_t)                                           \
        }                                                                     \
        return (a0 + a1) + (a2 + a3);                                         \
    }                                                                         \
                                                                              \
    /* acc[b] = sum_q w[q] XT[col_q, b].  The sums stay in acc[] (L1): held \
     * in registers, TILE of them at a time, they took 1.6 to 7 ms instead of \
     * 1 ms at batch 64 (GCC spills the tile). */                             \
    static NOINLINE void batch_dot_##SUFFIX(const T *w, const int32_t *cols,  \
                                            int64_t count, const T *xt,       \
                                            int64_t batch, T *restrict acc)   \
    {                                                                         \
        for (int64_t b = 0; b < batch; ++b)                                   \
            acc[b] = 0;                                                       \
        for (int64_t q = 0; q < count; ++q) {                                 \
            const T v = w[q], *restrict x = xt + (cols ? cols[q] : q) * batch;\
            _Pragma("omp simd")                                               \
            for (int64_t b = 0; b < batch; ++b)                               \
                acc[b] += v * x[b];                                           \
        }                                                                     \
    }                                                                         \
                                                                              \
    static NOINLINE void batch_axpy_##SUFFIX(const T *w, const int32_t *cols, \
                                             int64_t count, const T *g,       \
                                             int64_t batch, T *ot)            \
    {                                                                         \
        for (int64_t q = 0; q < count; ++q) {                                 \
            const T v = w[q];                                                 \
            T *o = ot + (cols ? cols[q] : q) * batch;                         \
            _Pragma("omp simd")                                               \
            for (int64_t b = 0; b < batch; ++b)                               \
                o[b] += v * g[b];                                             \
        }                                                                     \
    }                                                                         \
                                                                              \
    static NOINLINE T batch_inner_##SUFFIX(const T *g, const T *x,            \
                                           int64_t batch)                     \
    {                                                                         \
        T acc = 0;                                                            \
        _Pragma("omp simd reduction(+:acc)")                                  \
        for (int64_t b = 0; b < batch; ++b)                                   \
            acc += g[b] * x[b];                                               \
        return acc;                                                           \
    }                                                                         \
                                                                              \
    /* y[t] (+)= a * x[t], contiguous. */                                    \
    static NOINLINE void axpy_##SUFFIX(T *restrict y, T a,                    \
                                       const T *restrict x, int64_t count)    \
    {                                                                         \
        _Pragma("omp simd")                                                   \
        for (int64_t t = 0; t < count; ++t)                                   \
            y[t] += a * x[t];                                                 \
    }                                                                         \
                                                                              \
    /* Dense rows (a dense codebook) need no transposition: each row meets    \
     * the batch as contiguous dot products and axpys, as in dense.c. */      \
    NO_AUTO_VECTORIZE                                                         \
    void rows_apply_##SUFFIX(const Rows *R, const T *X, int64_t batch, T *Y,  \
                             void *work)                                      \
    {                                                                         \
        const int64_t m = R->m, n = R->n;                                     \
        Work_##SUFFIX s = split_##SUFFIX(work, n, batch);                     \
        const T *w;                                                           \
        const int32_t *cols;                                                  \
        const int wide = batch >= BATCH_PATH && R->indptr;                    \
        if (!wide && R->values) { /* CSR: straight from the stored rows */    \
            if (R->gap_bytes == 1)                                            \
                CSR_ROWS(T, SUFFIX, const uint8_t)                            \
            else                                                              \
                CSR_ROWS(T, SUFFIX, const uint16_t)                           \
            return;                                                           \
        }                                                                     \
        if (wide)                                                             \
            transpose_##SUFFIX(X, batch, n, s.xt);                            \
        for (int64_t i = 0; i < m; ++i) {                                     \
            const int64_t count = row_##SUFFIX(R, i, &s, wide, &w, &cols);    \
            if (wide) {                                                       \
                batch_dot_##SUFFIX(w, cols, count, s.xt, batch, s.g);         \
                for (int64_t b = 0; b < batch; ++b)                           \
                    Y[b * m + i] = s.g[b];                                    \
            } else if (R->indptr) {                                           \
                for (int64_t b = 0; b < batch; ++b)                           \
                    Y[b * m + i] = gap_dot_##SUFFIX(R, R->indptr[i], count,   \
                                                    w, X + b * n);            \
            } else {                                                          \
                for (int64_t b = 0; b < batch; ++b)                           \
                    Y[b * m + i] = dense_dot_##SUFFIX(w, X + b * n, count);   \
            }                                                                 \
        }                                                                     \
    }                                                                         \
                                                                              \
    NO_AUTO_VECTORIZE                                                         \
    void rows_apply_t_##SUFFIX(const Rows *R, const T *G, int64_t batch,      \
                               T *out, void *work)                            \
    {                                                                         \
        const int64_t m = R->m, n = R->n;                                     \
        Work_##SUFFIX s = split_##SUFFIX(work, n, batch);                     \
        const T *w;                                                           \
        const int32_t *cols;                                                  \
        const int wide = batch >= BATCH_PATH && R->indptr;                    \
        memset(wide ? s.ot : out, 0, sizeof(T) * n * batch);                  \
        for (int64_t i = 0; i < m; ++i) {                                     \
            const int64_t count = row_##SUFFIX(R, i, &s, 1, &w, &cols);       \
            if (wide) {                                                       \
                for (int64_t b = 0; b < batch; ++b)                           \
                    s.g[b] = G[b * m + i];                                    \
                batch_axpy_##SUFFIX(w, cols, count, s.g, batch, s.ot);        \
            } else if (!cols) {                                               \
                for (int64_t b = 0; b < batch; ++b)                           \
                    axpy_##SUFFIX(out + b * n, G[b * m + i], w, count);       \
            } else {                                                          \
                for (int64_t b = 0; b < batch; ++b) {                         \
                    const T g = G[b * m + i];                                 \
                    T *o = out + b * n;                                       \
                    for (int64_t q = 0; q < count; ++q)                       \
                        o[cols[q]] += g * w[q];                               \
                }                                                             \
            }                                                                 \
        }                                                                     \
        if (wide)                                                             \
            transpose_##SUFFIX(s.ot, n, batch, out);                          \
    }                                                                         \
                                                                              \
    NO_AUTO_VECTORIZE                                                         \
    void rows_grad_##SUFFIX(const Rows *R, const T *G, const T *X,            \
                            int64_t batch, T *grad, void *work)               \
    {                                                                         \
        const int64_t m = R->m, n = R->n;                                     \
        Work_##SUFFIX s = split_##SUFFIX(work, n, batch);                     \
        const T *w;                                                           \
        const int32_t *cols;                                                  \
        const int wide = batch >= BATCH_PATH && R->indptr;                    \
        if (wide)                                                             \
            transpose_##SUFFIX(X, batch, n, s.xt);                            \
        for (int64_t i = 0; i < m; ++i) {                                     \
            const int64_t count = row_##SUFFIX(R, i, &s, 1, &w, &cols);       \
            const int64_t start = R->indptr ? R->indptr[i] : 0;               \
            T *sums = s.ot; /* per entry: sum_b G[b, i] X[b, col] */          \
            for (int64_t b = 0; b < batch; ++b)                               \
                s.g[b] = G[b * m + i];                                        \
            if (!cols) {                                                      \
                memset(sums, 0, sizeof(T) * count);                           \
                for (int64_t b = 0; b < batch; ++b)                           \
                    axpy_##SUFFIX(sums, s.g[b], X + b * n, count);            \
            } else {                                                          \
                for (int64_t q = 0; q < count; ++q) {                         \
                    T sum = 0;                                                \
                    if (wide) {                                               \
                        sum = batch_inner_##SUFFIX(s.g, s.xt + cols[q] * batch, \
                                                   batch);                    \
                    } else {                                                  \
                        for (int64_t b = 0; b < batch; ++b)                   \
                            sum += s.g[b] * X[b * n + cols[q]];               \
                    }                                                         \
                    sums[q] = sum;                                            \
                }                                                             \
            }                                                                 \
            for (int64_t q = 0; q < count; ++q) {                             \
                if (R->values)                                                \
                    grad[start + q] = sums[q];                                \
                else                                                          \
                    grad[s.k[q]] += sums[q];                                  \
            }                                                                 \
        }                                                                     \
    }                                                                         \
                                                                              \
    static Rows csr_rows_##SUFFIX(const int32_t *indptr, const void *gaps,    \
                                  int64_t gap_bytes, const T *values,         \
                                  int64_t m, int64_t n)                       \
    {                                                                         \
        Rows R = {0};                                                         \
        R.m = m; R.n = n; R.indptr = indptr; R.gaps = gaps;                   \
        R.gap_bytes = gap_bytes; R.values = values;                           \
        return R;                                                             \
    }                                                                         \
                                                                              \
    void csr_apply_##SUFFIX(const int32_t *indptr, const void *gaps,          \
                            int64_t gap_bytes, const T *values, int64_t m,    \
                            int64_t n, const T *X, int64_t batch, T *Y,       \
                            void *work)                                       \
    {                                                                         \
        Rows R = csr_rows_##SUFFIX(indptr, gaps, gap_bytes, values, m, n);    \
        rows_apply_##SUFFIX(&R, X, batch, Y, work);                           \
    }                                                                         \
                                                                              \
    void csr_apply_t_##SUFFIX(const int32_t *indptr, const void *gaps,        \
                              int64_t gap_bytes, const T *values, int64_t m,  \
                              int64_t n, const T *G, int64_t batch, T *out,   \
                              void *work)                                     \
    {                                                                         \
        Rows R = csr_rows_##SUFFIX(indptr, gaps, gap_bytes, values, m, n);    \
        rows_apply_t_##SUFFIX(&R, G, batch, out, work);                       \
    }                                                                         \
                                                                              \
    void csr_grad_##SUFFIX(const int32_t *indptr, const void *gaps,           \
                           int64_t gap_bytes, const T *values, int64_t m,     \
                           int64_t n, const T *G, const T *X, int64_t batch,  \
                           T *grad, void *work)                               \
    {                                                                         \
        Rows R = csr_rows_##SUFFIX(indptr, gaps, gap_bytes, values, m, n);    \
        rows_grad_##SUFFIX(&R, G, X, batch, grad, work);                      \
    }

DEFINE_ROWS(float, f32)
DEFINE_ROWS(double, f64)
