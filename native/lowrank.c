/* Low-rank product Y[b, :] = U @ (V @ X[b, :]) with U (m x r), V (r x n).
 *
 * Two passes through a rank-r intermediate t: r*(n + m) multiply-adds per
 * vector instead of m*n.  t = V x is r long dot products (the dense kernel);
 * y = U t is then done column by column, y += t[j] * U[:, j], from U stored
 * transposed (Ut, r x m): each step a contiguous axpy of length m, where dot
 * products of length r would spend their time on horizontal sums when r is
 * small.  `work` holds t (r numbers), allocated by the caller.
 */
#include "structlab.h"

#define DEFINE_LOWRANK(T, SUFFIX)                                            \
    void lowrank_apply_##SUFFIX(const T *Ut, const T *V, int64_t m,         \
                                int64_t r, int64_t n, const T *X,           \
                                int64_t batch, T *Y, T *work)               \
    {                                                                        \
        for (int64_t b = 0; b < batch; ++b) {                                \
            T *y = Y + b * m;                                                \
            dense_apply_##SUFFIX(V, r, n, X + b * n, 1, work);               \
            for (int64_t i = 0; i < m; ++i)                                  \
                y[i] = 0;                                                    \
            for (int64_t j = 0; j < r; ++j) {                                \
                const T *u = Ut + j * m, t = work[j];                        \
                _Pragma("omp simd")                                          \
                for (int64_t i = 0; i < m; ++i)                              \
                    y[i] += u[i] * t;                                        \
            }                                                                \
        }                                                                    \
    }

DEFINE_LOWRANK(float, f32)
DEFINE_LOWRANK(double, f64)
