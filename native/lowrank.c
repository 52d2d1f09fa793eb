/* Low-rank product Y[b, :] = U @ (V @ X[b, :]) with U (m x r), V (r x n).
 *
 * Two dense passes through a rank-r intermediate: r*(n + m) multiply-adds per
 * vector instead of m*n.  `work` holds one intermediate of length r, so the
 * caller allocates it once outside any timed loop.
 */
#include "structlab.h"

#define DEFINE_LOWRANK(T, SUFFIX)                                            \
    void lowrank_apply_##SUFFIX(const T *U, const T *V, int64_t m,          \
                                int64_t r, int64_t n, const T *X,           \
                                int64_t batch, T *Y, T *work)               \
    {                                                                        \
        for (int64_t b = 0; b < batch; ++b) {                                \
            dense_apply_##SUFFIX(V, r, n, X + b * n, 1, work);               \
            dense_apply_##SUFFIX(U, m, r, work, 1, Y + b * m);               \
        }                                                                    \
    }

DEFINE_LOWRANK(float, f32)
DEFINE_LOWRANK(double, f64)
