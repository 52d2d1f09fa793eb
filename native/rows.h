/* Private to the kernels (cffi never reads it): the row-by-row engine shared
 * by the CSR and the pruned / weight-shared (codebook) kernels.
 *
 * Positions are stored as Deep Compression stores them, relative: row i
 * holds the entries indptr[i] .. indptr[i + 1] (int32), and entry p sits
 * gaps[p] + 1 columns after the previous entry of its row, the first one
 * after column -1.  A gap is 1 byte (uint8) or 2 (uint16), the narrowest
 * in which every gap of the matrix fits, so no filler entries are needed.
 * A dense codebook has no positions (indptr == NULL): every row holds the n
 * columns in order.
 *
 * The numbers of an entry are `values` (CSR, one per entry) or
 * table[k] with k unpacked from `packed` (codebook, `bits` per entry, each
 * row from the byte row_bytes[i]).
 */
#ifndef STRUCTLAB_ROWS_H
#define STRUCTLAB_ROWS_H
#include <stdint.h>

typedef struct {
    int64_t m, n;
    const int32_t *indptr;     /* NULL: dense rows */
    const void *gaps;
    int64_t gap_bytes;         /* 1 or 2 */
    const void *values;        /* CSR; NULL for a codebook */
    const uint8_t *packed;     /* codebook only, from here on */
    const int32_t *row_bytes;
    int64_t bits;
    const void *table;
} Rows;

void rows_apply_f32(const Rows *R, const float *X, int64_t batch, float *Y, void *work);
void rows_apply_f64(const Rows *R, const double *X, int64_t batch, double *Y, void *work);
void rows_apply_t_f32(const Rows *R, const float *G, int64_t batch, float *out, void *work);
void rows_apply_t_f64(const Rows *R, const double *G, int64_t batch, double *out, void *work);
void rows_grad_f32(const Rows *R, const float *G, const float *X, int64_t batch, float *grad,
                   void *work);
void rows_grad_f64(const Rows *R, const double *G, const double *X, int64_t batch,
                   double *grad, void *work);
void unpack_indices(const uint8_t *packed, int64_t count, int bits, uint8_t *out);
#endif
