/* Declarations of structlab's C kernels (also read by the cffi build script,
 * so keep this file to plain prototypes and enums: no macros, no includes but
 * stdint).  Every kernel computes Y[b, :] = W @ X[b, :] for `batch` row
 * vectors, row-major, float32 (_f32) or float64 (_f64); sizes and indices are
 * int64.  Work buffers come from the caller, so nothing is allocated inside. */
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

void csr_apply_f32(const int64_t *indptr, const int64_t *indices,
                   const float *values, int64_t m, int64_t n,
                   const float *X, int64_t batch, float *Y);
void csr_apply_f64(const int64_t *indptr, const int64_t *indices,
                   const double *values, int64_t m, int64_t n,
                   const double *X, int64_t batch, double *Y);

void codebook_apply_f32(const uint8_t *packed, const int64_t *row_bytes,
                        int64_t bits, const float *table,
                        const int64_t *indptr, const int64_t *indices,
                        int64_t m, int64_t n, const float *X, int64_t batch,
                        float *Y, uint8_t *work);
void codebook_apply_f64(const uint8_t *packed, const int64_t *row_bytes,
                        int64_t bits, const double *table,
                        const int64_t *indptr, const int64_t *indices,
                        int64_t m, int64_t n, const double *X, int64_t batch,
                        double *Y, uint8_t *work);

enum { PRODUCT_DESC = 6, PRODUCT_CSR = 0, PRODUCT_BUTTERFLY = 1 };
void product_apply_f32(int64_t n_factors, const int64_t *desc,
                       const int64_t *index, const float *values,
                       const float *X, int64_t batch, float *Y,
                       float *work_a, float *work_b);
void product_apply_f64(int64_t n_factors, const int64_t *desc,
                       const int64_t *index, const double *values,
                       const double *X, int64_t batch, double *Y,
                       double *work_a, double *work_b);

enum { SSS_DESC = 13 };
void sss_apply_f32(int64_t stages, const int64_t *desc, const float *values,
                   int64_t m, int64_t n, const float *X, int64_t batch,
                   float *Y, float *work, int64_t max_state);
void sss_apply_f64(int64_t stages, const int64_t *desc, const double *values,
                   int64_t m, int64_t n, const double *X, int64_t batch,
                   double *Y, double *work, int64_t max_state);
