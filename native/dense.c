/* Dense products, the baseline every structure is timed against.
 *
 * Layout (every kernel of structlab): row-major, one input vector per row.
 * X holds `batch` rows of length n and Y gets `batch` rows of length m:
 * Y[b, :] = W @ X[b, :].  Every inner loop is then a contiguous dot product.
 *
 * Four rows of W are read together: each x[j] is loaded once for four
 * products, and the four independent sums hide the latency of the additions.
 * A block of four rows (20 KB for n = 1280 floats) stays in L1 while the
 * batch goes through it.  The simd pragma (honoured under -fopenmp-simd, no
 * OpenMP runtime) lets the compiler reorder each float sum without
 * -ffast-math.
 */
#include "structlab.h"

#define DEFINE_DENSE(T, SUFFIX)                                               \
    void dense_apply_##SUFFIX(const T *W, int64_t m, int64_t n,              \
                              const T *X, int64_t batch, T *Y)               \
    {                                                                         \
        int64_t i = 0;                                                        \
        for (; i + 4 <= m; i += 4) {                                          \
            const T *w0 = W + i * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;\
            for (int64_t b = 0; b < batch; ++b) {                             \
                const T *x = X + b * n;                                       \
                T a0 = 0, a1 = 0, a2 = 0, a3 = 0;                             \
                _Pragma("omp simd reduction(+:a0, a1, a2, a3)")               \
                for (int64_t j = 0; j < n; ++j) {                             \
                    a0 += w0[j] * x[j];                                       \
                    a1 += w1[j] * x[j];                                       \
                    a2 += w2[j] * x[j];                                       \
                    a3 += w3[j] * x[j];                                       \
                }                                                             \
                T *y = Y + b * m + i;                                         \
                y[0] = a0; y[1] = a1; y[2] = a2; y[3] = a3;                   \
            }                                                                 \
        }                                                                     \
        for (; i < m; ++i) { /* the last m % 4 rows */                        \
            const T *w = W + i * n;                                           \
            for (int64_t b = 0; b < batch; ++b) {                             \
                const T *x = X + b * n;                                       \
                T acc = 0;                                                    \
                _Pragma("omp simd reduction(+:acc)")                          \
                for (int64_t j = 0; j < n; ++j)                               \
                    acc += w[j] * x[j];                                       \
                Y[b * m + i] = acc;                                           \
            }                                                                 \
        }                                                                     \
    }

DEFINE_DENSE(float, f32)
DEFINE_DENSE(double, f64)
