/* Sparse (CSR) products: one multiply-add per stored entry.
 *
 * Row i of W stores values[p] at columns indices[p] for indptr[i] <= p <
 * indptr[i + 1].  Y[b, i] = sum_p values[p] * X[b, indices[p]]: a gather from
 * x, which the compiler vectorizes (gather instructions) when the target has
 * them.  The batch loop sits inside the row loop so a row's values and
 * indices are read from memory once per batch.
 *
 * Rows shorter than SHORT_ROW take a plain scalar loop: setting up gathers
 * and a vector reduction costs more than a few multiply-adds.  Left alone,
 * GCC vectorizes the driver's loops anyway (in-order reductions over
 * gathers), which made the two-entry rows of a butterfly factor 5-10x
 * slower; the driver is therefore compiled without auto-vectorization, and
 * only the long-row dot product (its own function, not inlined) uses SIMD.
 */
#include "structlab.h"

enum { SHORT_ROW = 16 };
#if defined(__GNUC__) && !defined(__clang__)
#define NO_AUTO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#else
#define NO_AUTO_VECTORIZE
#endif

#define DEFINE_CSR(T, SUFFIX)                                                 \
    static T long_dot_##SUFFIX(const int64_t *indices, const T *values,       \
                               int64_t count, const T *x)                     \
    {                                                                         \
        T acc = 0;                                                            \
        _Pragma("omp simd reduction(+:acc)")                                  \
        for (int64_t p = 0; p < count; ++p)                                   \
            acc += values[p] * x[indices[p]];                                 \
        return acc;                                                           \
    }                                                                         \
                                                                              \
    NO_AUTO_VECTORIZE                                                         \
    void csr_apply_##SUFFIX(const int64_t *indptr, const int64_t *indices,    \
                            const T *values, int64_t m, int64_t n,            \
                            const T *X, int64_t batch, T *Y)                  \
    {                                                                         \
        for (int64_t i = 0; i < m; ++i) {                                     \
            const int64_t start = indptr[i], count = indptr[i + 1] - start;   \
            const int64_t *cols = indices + start;                            \
            const T *vals = values + start;                                   \
            for (int64_t b = 0; b < batch; ++b) {                             \
                const T *x = X + b * n;                                       \
                T acc = 0;                                                    \
                if (count >= SHORT_ROW) {                                     \
                    acc = long_dot_##SUFFIX(cols, vals, count, x);            \
                } else {                                                      \
                    for (int64_t p = 0; p < count; ++p)                       \
                        acc += vals[p] * x[cols[p]];                          \
                }                                                             \
                Y[b * m + i] = acc;                                           \
            }                                                                 \
        }                                                                     \
    }

DEFINE_CSR(float, f32)
DEFINE_CSR(double, f64)
