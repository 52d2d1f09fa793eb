/* Weight-shared products: every stored entry is table[k] for a small index k.
 *
 * The indices are packed `bits` to an entry (1 to 8), the first entry of a
 * byte in its lowest bits; row i's entries start on the byte row_bytes[i],
 * so each row unpacks on its own.  The packed array carries one spare byte
 * at the end, because an entry may straddle two bytes and is read as 16 bits.
 *
 * Dense codebook (indptr == NULL): row i has n entries, columns 0 .. n-1.
 * Pruned codebook: row i's entries sit where its relative positions say, as
 * for CSR (rows.h), and only those are packed.
 *
 * Per row: unpack the indices (uint8), look each up in the table, then the
 * row engine of csr.c runs as for a CSR row: batch-1 dot products, the
 * transposed-batch path, the transposed product and the gradients, here of
 * the table (every entry adds its gradient to its shared value).  The
 * power-of-two widths unpack byte by byte with constant shifts, which
 * vectorizes.  `table` holds at least 32 numbers (zero-padded), so that no
 * index reads past it.
 */
#include "rows.h"
#include "structlab.h"

#define UNPACK_POW2(BITS)                                                     \
    for (int64_t q = 0; q < (count + 8 / BITS - 1) / (8 / BITS); ++q)         \
        for (int t = 0; t < 8 / BITS; ++t)                                    \
            out[q * (8 / BITS) + t] =                                         \
                (uint8_t)((packed[q] >> (t * BITS)) & ((1u << BITS) - 1u));

/* `out` must have room for `count` rounded up to whole bytes of entries. */
void unpack_indices(const uint8_t *packed, int64_t count, int bits, uint8_t *out)
{
    switch (bits) {
    case 1: UNPACK_POW2(1) break;
    case 2: UNPACK_POW2(2) break;
    case 4: UNPACK_POW2(4) break;
    case 8:
        for (int64_t q = 0; q < count; ++q)
            out[q] = packed[q];
        break;
    default: {
        const unsigned mask = (1u << bits) - 1u;
        for (int64_t q = 0; q < count; ++q) {
            const int64_t at = q * bits;
            const unsigned word = packed[at >> 3] | (unsigned)packed[(at >> 3) + 1] << 8;
            out[q] = (uint8_t)((word >> (at & 7)) & mask);
        }
    }
    }
}

#define DEFINE_CODEBOOK(T, SUFFIX)                                            \
    static Rows codebook_rows_##SUFFIX(const uint8_t *packed,                 \
                                       const int32_t *row_bytes, int64_t bits,\
                                       const T *table, const int32_t *indptr, \
                                       const void *gaps, int64_t gap_bytes,   \
                                       int64_t m, int64_t n)                  \
    {                                                                         \
        Rows R = {0};                                                         \
        R.m = m; R.n = n; R.indptr = indptr; R.gaps = gaps;                   \
        R.gap_bytes = gap_bytes; R.packed = packed; R.row_bytes = row_bytes;  \
        R.bits = bits; R.table = table;                                       \
        return R;                                                             \
    }                                                                         \
                                                                              \
    void codebook_apply_##SUFFIX(CODEBOOK_ARGS(T), const T *X, int64_t batch, \
                                 T *Y, void *work)                            \
    {                                                                         \
        Rows R = codebook_rows_##SUFFIX(CODEBOOK_NAMES);                      \
        rows_apply_##SUFFIX(&R, X, batch, Y, work);                           \
    }                                                                         \
                                                                              \
    void codebook_apply_t_##SUFFIX(CODEBOOK_ARGS(T), const T *G,              \
                                   int64_t batch, T *out, void *work)         \
    {                                                                         \
        Rows R = codebook_rows_##SUFFIX(CODEBOOK_NAMES);                      \
        rows_apply_t_##SUFFIX(&R, G, batch, out, work);                       \
    }                                                                         \
                                                                              \
    void codebook_grad_##SUFFIX(CODEBOOK_ARGS(T), const T *G, const T *X,     \
                                int64_t batch, T *grad, void *work)           \
    {                                                                         \
        Rows R = codebook_rows_##SUFFIX(CODEBOOK_NAMES);                      \
        rows_grad_##SUFFIX(&R, G, X, batch, grad, work);                      \
    }

#define CODEBOOK_ARGS(T)                                                      \
    const uint8_t *packed, const int32_t *row_bytes, int64_t bits,            \
        const T *table, const int32_t *indptr, const void *gaps,              \
        int64_t gap_bytes, int64_t m, int64_t n
#define CODEBOOK_NAMES packed, row_bytes, bits, table, indptr, gaps, gap_bytes, m, n

DEFINE_CODEBOOK(float, f32)
DEFINE_CODEBOOK(double, f64)
