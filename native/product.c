/* Products of sparse factors: y = F_1 F_2 ... F_J x, applied right to left.
 *
 * The factors arrive in the order they are applied (F_J first) and are
 * described by `desc`, one row of PRODUCT_DESC int64 per factor:
 *
 *   kind    PRODUCT_CSR or PRODUCT_BUTTERFLY
 *   m, n    the factor's shape
 *   stride  butterfly stride s; for CSR, the bytes of one gap (1 or 2)
 *   index   byte offset in `index` of the factor's CSR row pointers (int32,
 *           m + 1, 4-byte aligned) followed by its gaps (rows.h; unused for
 *           a butterfly)
 *   value   offset of the factor's numbers in `values`
 *
 * A butterfly factor of stride s (a power of two) has exactly two entries
 * per row, at columns i and i ^ s: it stores d[i] (the coefficient of x[i])
 * then o[i] (that of x[i ^ s]), 2 m numbers and no index.  Within each block
 * of 2 s rows its loop is contiguous, so it vectorizes without gathers.
 *
 * Intermediate vectors go through two work buffers, each of (largest inner
 * size) x batch elements; the last factor writes into Y.  `work_rows` is the
 * CSR kernel's (sparse_work_bytes of the widest factor).
 */
#include "structlab.h"

/* One butterfly pass over rows [base, base + s) and their partners i + s.
 * With s a compile-time constant (the small strides below) the compiler
 * vectorizes across blocks instead, using in-register permutations. */
#define BUTTERFLY_BLOCKS(T, s)                                                \
    for (int64_t base = 0; base < m; base += 2 * (s)) {                       \
        _Pragma("omp simd")                                                   \
        for (int64_t i = base; i < base + (s); ++i) {                         \
            const T lo = x[i], hi = x[i + (s)];                               \
            y[i] = d[i] * lo + o[i] * hi;                                     \
            y[i + (s)] = d[i + (s)] * hi + o[i + (s)] * lo;                   \
        }                                                                     \
    }

#define DEFINE_BUTTERFLY(T, SUFFIX)                                           \
    static void butterfly_##SUFFIX(const T *d, const T *o, int64_t m,         \
                                   int64_t s, const T *X, int64_t batch,      \
                                   T *Y)                                      \
    {                                                                         \
        for (int64_t b = 0; b < batch; ++b) {                                 \
            const T *x = X + b * m;                                           \
            T *y = Y + b * m;                                                 \
            switch (s) {                                                      \
            case 1: BUTTERFLY_BLOCKS(T, 1) break;                                \
            case 2: BUTTERFLY_BLOCKS(T, 2) break;                                \
            case 4: BUTTERFLY_BLOCKS(T, 4) break;                                \
            case 8: BUTTERFLY_BLOCKS(T, 8) break;                                \
            default: BUTTERFLY_BLOCKS(T, s)                                      \
            }                                                                 \
        }                                                                     \
    }

#define DEFINE_PRODUCT(T, SUFFIX)                                             \
    void product_apply_##SUFFIX(int64_t n_factors, const int64_t *desc,       \
                                const uint8_t *index, const T *values,        \
                                const T *X, int64_t batch, T *Y,              \
                                T *work_a, T *work_b, void *work_rows)        \
    {                                                                         \
        const T *in = X;                                                      \
        for (int64_t f = 0; f < n_factors; ++f) {                             \
            const int64_t *row = desc + f * PRODUCT_DESC;                     \
            const int64_t m = row[1], n = row[2];                             \
            T *out = f == n_factors - 1 ? Y : (f % 2 ? work_b : work_a);      \
            const T *v = values + row[5];                                     \
            if (row[0] == PRODUCT_BUTTERFLY)                                  \
                butterfly_##SUFFIX(v, v + m, m, row[3], in, batch, out);      \
            else                                                              \
                csr_apply_##SUFFIX((const int32_t *)(index + row[4]),         \
                                   index + row[4] + 4 * (m + 1), row[3], v,   \
                                   m, n, in, batch, out, work_rows);          \
            in = out;                                                         \
        }                                                                     \
    }

DEFINE_BUTTERFLY(float, f32)
DEFINE_BUTTERFLY(double, f64)
DEFINE_PRODUCT(float, f32)
DEFINE_PRODUCT(double, f64)
