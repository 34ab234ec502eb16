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

/* Name of the backend refsr_sgemm uses ("openblas", "cblas", "portable";
 * "onednn" only where the benchmark chose it). */
const char *refsr_sgemm_backend (void);

/* Every backend this build has, so that tests and the benchmark can put
 * them side by side. */
typedef enum
{
  REFSR_GEMM_PORTABLE,
  REFSR_GEMM_CBLAS,
  REFSR_GEMM_DNNL,
  REFSR_GEMM_N_BACKENDS
} RefsrGemmBackend;

gboolean refsr_sgemm_backend_built (RefsrGemmBackend backend);

/* The fastest backend built: oneDNN where present (about twice
 * OpenBLAS's single-threaded speed on the search's products).  refsr_sgemm
 * does not use it: the convolutions' products on oneDNN made a tiled run
 * differ from the whole image's in the last bit (tests/test-cli.sh, tile
 * test), which OpenBLAS and the portable kernel do not; the search's
 * products keep tiles identical on it and use it through
 * refsr_sgemm_with. */
RefsrGemmBackend refsr_sgemm_fastest (void);
const char *refsr_sgemm_backend_name (RefsrGemmBackend backend);

/* For the benchmark, which times whole runs on each backend: makes
 * refsr_sgemm and refsr_sgemm_fastest answer backend (which must be
 * built) from now on, or their own choice again for
 * REFSR_GEMM_N_BACKENDS.  Call it only while no product
 * runs. */
void refsr_sgemm_use (RefsrGemmBackend backend);

/* refsr_sgemm on a given backend, which must be built.  Same contract:
 * runs on the calling thread only. */
void refsr_sgemm_with (RefsrGemmBackend backend, int m, int n, int k,
                       const float *a, int lda, const float *b, int ldb,
                       float *c, int ldc, gboolean accumulate);

#endif
