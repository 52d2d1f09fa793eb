/* Declarations of structlab's C kernels (also read by the cffi build script,
 * so keep this file to plain prototypes and enums: no macros, no includes but
 * stdint).  Every kernel computes Y[b, :] = W @ X[b, :] for `batch` row
 * vectors, row-major, float32 (_f32) or float64 (_f64); sizes are int64.
 * Sparse positions are narrow (int32 row pointers, 1- or 2-byte relative
 * gaps; layout in rows.h).  Work buffers come from the caller, so nothing is
 * allocated inside; the sparse kernels' is sparse_work_bytes(n, batch,
 * sizeof(T)) bytes.  The _t kernels compute the transposed product
 * out[b, :] = W^T G[b, :] and the _grad kernels the gradient of the stored
 * numbers, sum_b G[b, i] X[b, j] per entry (CSR) or per shared value
 * (codebook, added into a zeroed `grad`): what backpropagation needs. */
#include <stdint.h>

void dense_apply_f32(const float *W, int64_t m, int64_t n,
                     const float *X, int64_t batch, float *Y);
void dense_apply_f64(const double *W, int64_t m, int64_t n,
                     const double *X, int64_t batch, double *Y);

void lowrank_apply_f32(const float *Ut, const float *V, int64_t m, int64_t r,
                       int64_t n, const float *X, int64_t batch, float *Y,
                       float *work);
void lowrank_apply_f64(const double *Ut, const double *V, int64_t m, int64_t r,
                       int64_t n, const double *X, int64_t batch, double *Y,
                       double *work);

int64_t sparse_work_bytes(int64_t n, int64_t batch, int64_t itemsize);

void csr_apply_f32(const int32_t *indptr, const void *gaps, int64_t gap_bytes,
                   const float *values, int64_t m, int64_t n, const float *X,
                   int64_t batch, float *Y, void *work);
void csr_apply_f64(const int32_t *indptr, const void *gaps, int64_t gap_bytes,
                   const double *values, int64_t m, int64_t n, const double *X,
                   int64_t batch, double *Y, void *work);
void csr_apply_t_f32(const int32_t *indptr, const void *gaps, int64_t gap_bytes,
                     const float *values, int64_t m, int64_t n, const float *G,
                     int64_t batch, float *out, void *work);
void csr_apply_t_f64(const int32_t *indptr, const void *gaps, int64_t gap_bytes,
                     const double *values, int64_t m, int64_t n, const double *G,
                     int64_t batch, double *out, void *work);
void csr_grad_f32(const int32_t *indptr, const void *gaps, int64_t gap_bytes,
                  const float *values, int64_t m, int64_t n, const float *G,
                  const float *X, int64_t batch, float *grad, void *work);
void csr_grad_f64(const int32_t *indptr, const void *gaps, int64_t gap_bytes,
                  const double *values, int64_t m, int64_t n, const double *G,
                  const double *X, int64_t batch, double *grad, void *work);

void codebook_apply_f32(const uint8_t *packed, const int32_t *row_bytes,
                        int64_t bits, const float *table, const int32_t *indptr,
                        const void *gaps, int64_t gap_bytes, int64_t m, int64_t n,
                        const float *X, int64_t batch, float *Y, void *work);
void codebook_apply_f64(const uint8_t *packed, const int32_t *row_bytes,
                        int64_t bits, const double *table, const int32_t *indptr,
                        const void *gaps, int64_t gap_bytes, int64_t m, int64_t n,
                        const double *X, int64_t batch, double *Y, void *work);
void codebook_apply_t_f32(const uint8_t *packed, const int32_t *row_bytes,
                          int64_t bits, const float *table, const int32_t *indptr,
                          const void *gaps, int64_t gap_bytes, int64_t m, int64_t n,
                          const float *G, int64_t batch, float *out, void *work);
void codebook_apply_t_f64(const uint8_t *packed, const int32_t *row_bytes,
                          int64_t bits, const double *table, const int32_t *indptr,
                          const void *gaps, int64_t gap_bytes, int64_t m, int64_t n,
                          const double *G, int64_t batch, double *out, void *work);
void codebook_grad_f32(const uint8_t *packed, const int32_t *row_bytes,
                       int64_t bits, const float *table, const int32_t *indptr,
                       const void *gaps, int64_t gap_bytes, int64_t m, int64_t n,
                       const float *G, const float *X, int64_t batch, float *grad,
                       void *work);
void codebook_grad_f64(const uint8_t *packed, const int32_t *row_bytes,
                       int64_t bits, const double *table, const int32_t *indptr,
                       const void *gaps, int64_t gap_bytes, int64_t m, int64_t n,
                       const double *G, const double *X, int64_t batch, double *grad,
                       void *work);

enum { PRODUCT_DESC = 6, PRODUCT_CSR = 0, PRODUCT_BUTTERFLY = 1 };
void product_apply_f32(int64_t n_factors, const int64_t *desc,
                       const uint8_t *index, const float *values,
                       const float *X, int64_t batch, float *Y,
                       float *work_a, float *work_b, void *work_rows);
void product_apply_f64(int64_t n_factors, const int64_t *desc,
                       const uint8_t *index, const double *values,
                       const double *X, int64_t batch, double *Y,
                       double *work_a, double *work_b, void *work_rows);

enum { SSS_DESC = 13 };
void sss_apply_f32(int64_t stages, const int64_t *desc, const float *values,
                   int64_t m, int64_t n, const float *X, int64_t batch,
                   float *Y, float *work, int64_t max_state);
void sss_apply_f64(int64_t stages, const int64_t *desc, const double *values,
                   int64_t m, int64_t n, const double *X, int64_t batch,
                   double *Y, double *work, int64_t max_state);
void sss_grad_f32(int64_t stages, const int64_t *desc, const float *values,
                  int64_t m, int64_t n, const float *X, const float *G,
                  int64_t batch, float *GX, float *grad, float *work,
                  int64_t max_state);
void sss_grad_f64(int64_t stages, const int64_t *desc, const double *values,
                  int64_t m, int64_t n, const double *X, const double *G,
                  int64_t batch, double *GX, double *grad, double *work,
                  int64_t max_state);
