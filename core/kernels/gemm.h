/* gemm.h — single-precision matrix product C = A·B (+ C), row-major.
 * Internal to the engine. */
#ifndef REFSR_GEMM_H
#define REFSR_GEMM_H

#include <glib.h>

/* C[m×n] = A[m×k] · B[k×n] (accumulate: C += A·B), row-major with leading
 * dimensions lda, ldb, ldc.  Runs on the calling thread only, so callers
 * may run it concurrently from OpenMP threads on disjoint C blocks.
 * Uses CBLAS where the build has it, else the portable blocked kernel. */
void refsr_sgemm (int m, int n, int k, const float *a, int lda,
                  const float *b, int ldb, float *c, int ldc,
                  gboolean accumulate);

/* The plain triple loop the optimised kernels are tested against. */
void refsr_sgemm_ref (int m, int n, int k, const float *a, int lda,
                      const float *b, int ldb, float *c, int ldc,
                      gboolean accumulate);

/* The portable blocked kernel (always built, so tests cover it even when
 * CBLAS is used). */
void refsr_sgemm_portable (int m, int n, int k, const float *a, int lda,
                           const float *b, int ldb, float *c, int ldc,
                           gboolean accumulate);

/* Name of the backend refsr_sgemm uses ("openblas", "cblas", "portable"). */
const char *refsr_sgemm_backend (void);

#endif
