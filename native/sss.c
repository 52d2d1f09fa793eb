/* Sequentially semiseparable products: the diagonal blocks plus two state
 * recursions, one multiply-add per stored number.
 *
 * `desc` has one row of SSS_DESC int64 per stage k = 0 .. K-1:
 *
 *   m, n            the stage's output and input sizes m_k, n_k
 *   dl, du          lower and upper state sizes on the cut after stage k
 *                   (0 for the last stage)
 *   row, col        where the stage starts in y and in x
 *   D, B, A, C      offsets in `values` of D_k (m_k x n_k) and of the lower
 *                   system's B_k (dl_k x n_k), A_k (dl_k x dl_{k-1}) and
 *                   C_k (m_{k+1} x dl_k)
 *   Bt, At, Ct      offsets of the upper system's generators as the backward
 *                   pass applies them: Bt_k (m_k x du_k), At_k (du_k x
 *                   du_{k+1}) and Ct_k (du_k x n_{k+1})
 *
 * Every block is stored by columns (column-major), so that each product is
 * a sequence of contiguous axpy updates.
 *
 *   diagonal:          y_k  = D_k x_k
 *   lower, forward:    s_k  = B_k x_k + A_k s_{k-1};        y_{k+1} += C_k s_k
 *   upper, backward:   t_k  = Ct_k x_{k+1} + At_k t_{k+1};  y_k     += Bt_k t_k
 *
 * `work` holds 2 x max_state numbers (two states in turn); one vector at a
 * time.  Empty stages and empty states need no special case: a product with
 * no rows writes nothing and one with no columns adds nothing.
 *
 * sss_grad is the backward pass, for a gradient G of the output: it runs the
 * two recursions again to keep every state (s_k, t_k), then the adjoint
 * recursions in the opposite directions,
 *
 *   lower:  sigma_k = C_k^T g_{k+1} + A_{k+1}^T sigma_{k+1}
 *   upper:  tau_k   = Bt_k^T g_k + At_{k-1}^T tau_{k-1}
 *
 * and adds every generator's gradient (an outer product: dC_k += g_{k+1}
 * s_k^T, dB_k += sigma_k x_k^T, ...) into `grad` (zeroed by the caller, the
 * layout of `values`) and the input's gradient into GX.  `work` holds
 * sum(dl) + sum(du) + 2 x max_state numbers.
 */
#include "structlab.h"

enum { M, N, DL, DU, ROW, COL, D, B, A, C, BT, AT, CT };

#define DEFINE_SSS(T, SUFFIX)                                                 \
    /* y = M x, or y += M x, for a small M (rows x cols) stored by columns:   \
     * column by column, each step an axpy over contiguous rows, so no         \
     * horizontal sums (which would dominate for blocks this small). */       \
    static void gemv_##SUFFIX(const T *restrict M_, int64_t rows,             \
                              int64_t cols, const T *restrict x,              \
                              T *restrict y, int accumulate)                  \
    {                                                                         \
        if (!accumulate)                                                      \
            for (int64_t r = 0; r < rows; ++r)                                \
                y[r] = 0;                                                     \
        int64_t c = 0;                                                        \
        for (; c + 4 <= cols; c += 4) { /* four columns per pass over y */    \
            const T *c0 = M_ + c * rows, *c1 = c0 + rows, *c2 = c1 + rows,    \
                    *c3 = c2 + rows;                                          \
            const T x0 = x[c], x1 = x[c + 1], x2 = x[c + 2], x3 = x[c + 3];   \
            _Pragma("omp simd")                                               \
            for (int64_t r = 0; r < rows; ++r)                                \
                y[r] += c0[r] * x0 + c1[r] * x1 + c2[r] * x2 + c3[r] * x3;    \
        }                                                                     \
        for (; c < cols; ++c) {                                               \
            const T *column = M_ + c * rows, xc = x[c];                       \
            _Pragma("omp simd")                                               \
            for (int64_t r = 0; r < rows; ++r)                                \
                y[r] += column[r] * xc;                                       \
        }                                                                     \
    }                                                                         \
                                                                              \
    void sss_apply_##SUFFIX(int64_t stages, const int64_t *desc,              \
                            const T *values, int64_t m, int64_t n,            \
                            const T *X, int64_t batch, T *Y, T *work,         \
                            int64_t max_state)                                \
    {                                                                         \
        for (int64_t b = 0; b < batch; ++b) {                                 \
            const T *x = X + b * n;                                           \
            T *y = Y + b * m;                                                 \
            T *state = work, *other = work + max_state, *swap;                \
            for (int64_t k = 0; k < stages; ++k) {                            \
                const int64_t *d = desc + k * SSS_DESC;                       \
                gemv_##SUFFIX(values + d[D], d[M], d[N], x + d[COL],          \
                              y + d[ROW], 0);                                 \
            }                                                                 \
            for (int64_t k = 0; k + 1 < stages; ++k) {                        \
                const int64_t *d = desc + k * SSS_DESC, *e = d + SSS_DESC;    \
                gemv_##SUFFIX(values + d[B], d[DL], d[N], x + d[COL],         \
                              other, 0);                                      \
                if (k)                                                        \
                    gemv_##SUFFIX(values + d[A], d[DL], d[DL - SSS_DESC],     \
                                  state, other, 1);                           \
                gemv_##SUFFIX(values + d[C], e[M], d[DL], other,              \
                              y + e[ROW], 1);                                 \
                swap = state; state = other; other = swap;                    \
            }                                                                 \
            for (int64_t k = stages - 2; k >= 0; --k) {                       \
                const int64_t *d = desc + k * SSS_DESC, *e = d + SSS_DESC;    \
                gemv_##SUFFIX(values + d[CT], d[DU], e[N], x + e[COL],        \
                              other, 0);                                      \
                if (k + 2 < stages)                                           \
                    gemv_##SUFFIX(values + d[AT], d[DU], e[DU], state,        \
                                  other, 1);                                  \
                gemv_##SUFFIX(values + d[BT], d[M], d[DU], other,             \
                              y + d[ROW], 1);                                 \
                swap = state; state = other; other = swap;                    \
            }                                                                 \
        }                                                                     \
    }

DEFINE_SSS(float, f32)
DEFINE_SSS(double, f64)

#define DEFINE_SSS_GRAD(T, SUFFIX)                                            \
    /* y[c] (+)= sum_r M[r, c] x[r]: M^T x, a dot product per column. */      \
    static void gemv_t_##SUFFIX(const T *restrict M_, int64_t rows,           \
                                int64_t cols, const T *restrict x,            \
                                T *restrict y, int accumulate)                \
    {                                                                         \
        for (int64_t c = 0; c < cols; ++c) {                                  \
            const T *column = M_ + c * rows;                                  \
            T acc = 0;                                                        \
            _Pragma("omp simd reduction(+:acc)")                              \
            for (int64_t r = 0; r < rows; ++r)                                \
                acc += column[r] * x[r];                                      \
            y[c] = accumulate ? y[c] + acc : acc;                             \
        }                                                                     \
    }                                                                         \
                                                                              \
    /* dM += u v^T, M (rows x cols) stored by columns. */                     \
    static void ger_##SUFFIX(T *restrict dM, int64_t rows, int64_t cols,      \
                             const T *restrict u, const T *restrict v)        \
    {                                                                         \
        for (int64_t c = 0; c < cols; ++c) {                                  \
            T *column = dM + c * rows;                                        \
            const T vc = v[c];                                                \
            _Pragma("omp simd")                                               \
            for (int64_t r = 0; r < rows; ++r)                                \
                column[r] += u[r] * vc;                                       \
        }                                                                     \
    }                                                                         \
                                                                              \
    void sss_grad_##SUFFIX(int64_t stages, const int64_t *desc,               \
                           const T *values, int64_t m, int64_t n,             \
                           const T *X, const T *G, int64_t batch, T *GX,      \
                           T *grad, T *work, int64_t max_state)               \
    {                                                                         \
        int64_t lower = 0, upper = 0;                                         \
        for (int64_t k = 0; k < stages; ++k) {                                \
            lower += desc[k * SSS_DESC + DL];                                 \
            upper += desc[k * SSS_DESC + DU];                                 \
        }                                                                     \
        T *S = work, *Tt = S + lower, *adj = Tt + upper, *adj2 = adj + max_state; \
        for (int64_t b = 0; b < batch; ++b) {                                 \
            const T *x = X + b * n, *g = G + b * m;                           \
            T *gx = GX + b * n, *swap;                                        \
            int64_t at = 0;                                                   \
            for (int64_t k = 0; k < stages; ++k) { /* states, forward */      \
                const int64_t *d = desc + k * SSS_DESC;                       \
                if (k + 1 == stages)                                          \
                    break;                                                    \
                gemv_##SUFFIX(values + d[B], d[DL], d[N], x + d[COL], S + at, 0); \
                if (k)                                                        \
                    gemv_##SUFFIX(values + d[A], d[DL], d[DL - SSS_DESC],     \
                                  S + at - d[DL - SSS_DESC], S + at, 1);      \
                at += d[DL];                                                  \
            }                                                                 \
            at = upper;                                                       \
            for (int64_t k = stages - 2; k >= 0; --k) {                       \
                const int64_t *d = desc + k * SSS_DESC, *e = d + SSS_DESC;    \
                at -= d[DU];                                                  \
                gemv_##SUFFIX(values + d[CT], d[DU], e[N], x + e[COL], Tt + at, 0); \
                if (k + 2 < stages)                                           \
                    gemv_##SUFFIX(values + d[AT], d[DU], e[DU], Tt + at + d[DU], \
                                  Tt + at, 1);                                \
            }                                                                 \
            for (int64_t k = 0; k < stages; ++k) { /* diagonal blocks */      \
                const int64_t *d = desc + k * SSS_DESC;                       \
                gemv_t_##SUFFIX(values + d[D], d[M], d[N], g + d[ROW], gx + d[COL], 0); \
                ger_##SUFFIX(grad + d[D], d[M], d[N], g + d[ROW], x + d[COL]); \
            }                                                                 \
            at = lower;                                                       \
            for (int64_t k = stages - 2; k >= 0; --k) { /* lower adjoint */   \
                const int64_t *d = desc + k * SSS_DESC, *e = d + SSS_DESC;    \
                at -= d[DL];                                                  \
                gemv_t_##SUFFIX(values + d[C], e[M], d[DL], g + e[ROW], adj2, 0); \
                if (k + 2 < stages)                                           \
                    gemv_t_##SUFFIX(values + e[A], e[DL], d[DL], adj, adj2, 1); \
                ger_##SUFFIX(grad + d[C], e[M], d[DL], g + e[ROW], S + at);   \
                ger_##SUFFIX(grad + d[B], d[DL], d[N], adj2, x + d[COL]);     \
                if (k)                                                        \
                    ger_##SUFFIX(grad + d[A], d[DL], d[DL - SSS_DESC], adj2,  \
                                 S + at - d[DL - SSS_DESC]);                  \
                gemv_t_##SUFFIX(values + d[B], d[DL], d[N], adj2, gx + d[COL], 1); \
                swap = adj; adj = adj2; adj2 = swap;                          \
            }                                                                 \
            at = 0;                                                           \
            for (int64_t k = 0; k + 1 < stages; ++k) { /* upper adjoint */    \
                const int64_t *d = desc + k * SSS_DESC, *e = d + SSS_DESC;    \
                gemv_t_##SUFFIX(values + d[BT], d[M], d[DU], g + d[ROW], adj2, 0); \
                if (k)                                                        \
                    gemv_t_##SUFFIX(values + d[AT - SSS_DESC], d[DU - SSS_DESC], \
                                    d[DU], adj, adj2, 1);                     \
                ger_##SUFFIX(grad + d[BT], d[M], d[DU], g + d[ROW], Tt + at); \
                ger_##SUFFIX(grad + d[CT], d[DU], e[N], adj2, x + e[COL]);    \
                if (k + 2 < stages)                                           \
                    ger_##SUFFIX(grad + d[AT], d[DU], e[DU], adj2, Tt + at + d[DU]); \
                gemv_t_##SUFFIX(values + d[CT], d[DU], e[N], adj2, gx + e[COL], 1); \
                at += d[DU];                                                  \
                swap = adj; adj = adj2; adj2 = swap;                          \
            }                                                                 \
        }                                                                     \
    }

DEFINE_SSS_GRAD(float, f32)
DEFINE_SSS_GRAD(double, f64)
