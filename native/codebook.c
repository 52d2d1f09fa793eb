/* Weight-shared products: every stored entry is table[k] for a small index k.
 *
 * The indices are packed `bits` to an entry (1 to 8), the first entry of a
 * byte in its lowest bits; row i's entries start on the byte row_bytes[i],
 * so each row unpacks on its own.  The packed array carries one spare byte
 * at the end, because an entry may straddle two bytes and is read as 16 bits.
 *
 * Dense codebook (indptr == NULL): row i has n entries, columns 0 .. n-1.
 * Sparse codebook: row i's entries sit at columns indices[indptr[i] ..
 * indptr[i + 1]) as in CSR, and only those are packed.
 *
 * Per row: unpack the indices into `work` (uint8, longest row), then one
 * table lookup and one multiply-add per entry.  The power-of-two widths
 * unpack byte by byte with constant shifts, which vectorizes.  `table` holds
 * at least 32 numbers (zero-padded), for the AVX-512 lookup below.
 */
#include "structlab.h"

#define UNPACK_POW2(BITS)                                                     \
    for (int64_t q = 0; q < (count + 8 / BITS - 1) / (8 / BITS); ++q)         \
        for (int t = 0; t < 8 / BITS; ++t)                                    \
            out[q * (8 / BITS) + t] =                                         \
                (uint8_t)((packed[q] >> (t * BITS)) & ((1u << BITS) - 1u));

/* `out` must have room for `count` rounded up to whole bytes of entries. */
static void unpack(const uint8_t *packed, int64_t count, int bits, uint8_t *out)
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

/* sum_q table[k[q]] * x[q], or * x[cols[q]] for a sparse row. */
#define DEFINE_SHARED_DOT(T, SUFFIX)                                          \
    static T shared_dot_##SUFFIX(const uint8_t *k, const int64_t *cols,       \
                                 const T *x, int64_t count, const T *table,   \
                                 int64_t bits)                                \
    {                                                                         \
        T acc = 0;                                                            \
        (void)bits;                                                           \
        if (cols) {                                                           \
            _Pragma("omp simd reduction(+:acc)")                              \
            for (int64_t q = 0; q < count; ++q)                               \
                acc += table[k[q]] * x[cols[q]];                              \
        } else {                                                              \
            _Pragma("omp simd reduction(+:acc)")                              \
            for (int64_t q = 0; q < count; ++q)                               \
                acc += table[k[q]] * x[q];                                    \
        }                                                                     \
        return acc;                                                           \
    }

DEFINE_SHARED_DOT(double, f64)

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
/* float32 with at most 32 shared values: the table (zero-padded to 32 by
 * the packer) lives in two vector registers, and looking up 16 entries is
 * one permutation instead of a gather from memory. */
DEFINE_SHARED_DOT(float, f32_portable)

static float shared_dot_f32(const uint8_t *k, const int64_t *cols, const float *x,
                            int64_t count, const float *table, int64_t bits)
{
    if (bits > 5)
        return shared_dot_f32_portable(k, cols, x, count, table, bits);
    const __m512 lo = _mm512_loadu_ps(table), hi = _mm512_loadu_ps(table + 16);
    __m512 acc = _mm512_setzero_ps();
    int64_t q = 0;
    for (; q + 16 <= count; q += 16) {
        const __m512i index = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(k + q)));
        const __m512 w = _mm512_permutex2var_ps(lo, index, hi);
        __m512 v;
        if (cols) {
            const __m256 a = _mm512_i64gather_ps(_mm512_loadu_si512(cols + q), x, 4);
            const __m256 b = _mm512_i64gather_ps(_mm512_loadu_si512(cols + q + 8), x, 4);
            v = _mm512_insertf32x8(_mm512_castps256_ps512(a), b, 1);
        } else {
            v = _mm512_loadu_ps(x + q);
        }
        acc = _mm512_fmadd_ps(w, v, acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    for (; q < count; ++q)
        sum += table[k[q]] * x[cols ? cols[q] : q];
    return sum;
}
#else
DEFINE_SHARED_DOT(float, f32)
#endif

#define DEFINE_CODEBOOK(T, SUFFIX)                                            \
    void codebook_apply_##SUFFIX(const uint8_t *packed,                       \
                                 const int64_t *row_bytes, int64_t bits,      \
                                 const T *table, const int64_t *indptr,       \
                                 const int64_t *indices, int64_t m,           \
                                 int64_t n, const T *X, int64_t batch, T *Y,  \
                                 uint8_t *work)                               \
    {                                                                         \
        for (int64_t i = 0; i < m; ++i) {                                     \
            const int64_t start = indptr ? indptr[i] : 0;                     \
            const int64_t count = indptr ? indptr[i + 1] - start : n;         \
            const int64_t *cols = indptr ? indices + start : 0;               \
            unpack(packed + row_bytes[i], count, (int)bits, work);            \
            for (int64_t b = 0; b < batch; ++b)                               \
                Y[b * m + i] = shared_dot_##SUFFIX(work, cols, X + b * n,     \
                                                   count, table, bits);       \
        }                                                                     \
    }

DEFINE_CODEBOOK(float, f32)
DEFINE_CODEBOOK(double, f64)
