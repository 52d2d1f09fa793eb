/* Declarations of structlab's C kernels (also read by the cffi build script,
 * so keep this file to plain prototypes: no macros, no includes but stdint). */
#include <stdint.h>

void dense_apply_f32(const float *W, int64_t m, int64_t n,
                     const float *X, int64_t batch, float *Y);
void dense_apply_f64(const double *W, int64_t m, int64_t n,
                     const double *X, int64_t batch, double *Y);

void lowrank_apply_f32(const float *U, const float *V, int64_t m, int64_t r,
                       int64_t n, const float *X, int64_t batch, float *Y,
                       float *work);
void lowrank_apply_f64(const double *U, const double *V, int64_t m, int64_t r,
                       int64_t n, const double *X, int64_t batch, double *Y,
                       double *work);
