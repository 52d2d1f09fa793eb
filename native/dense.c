/* Dense products, the baseline every structure is timed against.
 *
 * Layout: row-major. A batch X holds `batch` row vectors of length n, and the
 * result Y holds `batch` rows of length m: Y[b, :] = W @ X[b, :].  Keeping the
 * vectors as rows makes every inner loop a contiguous dot product, which the
 * compiler vectorizes at -O3;
 * the simd pragma (honoured under -fopenmp-simd, no OpenMP runtime) lets it
 * reorder the float sum without -ffast-math.
 */
#include "structlab.h"

#define DEFINE_DENSE(T, SUFFIX)                                              \
    void dense_apply_##SUFFIX(const T *W, int64_t m, int64_t n,             \
                              const T *X, int64_t batch, T *Y)              \
    {                                                                        \
        for (int64_t b = 0; b < batch; ++b) {                                \
            const T *x = X + b * n;                                          \
            T *y = Y + b * m;                                                \
            for (int64_t i = 0; i < m; ++i) {                                \
                const T *w = W + i * n;                                      \
                T acc = 0;                                                   \
                _Pragma("omp simd reduction(+:acc)")                         \
                for (int64_t j = 0; j < n; ++j)                              \
                    acc += w[j] * x[j];                                      \
                y[i] = acc;                                                  \
            }                                                                \
        }                                                                    \
    }

DEFINE_DENSE(float, f32)
DEFINE_DENSE(double, f64)
