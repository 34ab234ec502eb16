/* gemm.c — single-precision matrix product: reference, portable, CBLAS.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "refsr-config.h"

#include <string.h>

#include "gemm.h"

#ifdef REFSR_HAVE_CBLAS
#include <cblas.h>
#endif

void
refsr_sgemm_ref (int m, int n, int k, const float *a, int lda,
                 const float *b, int ldb, float *c, int ldc,
                 gboolean accumulate)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        float sum = 0.0f;

        for (int p = 0; p < k; p++)
          sum += a[(gsize) i * lda + p] * b[(gsize) p * ldb + j];
        if (accumulate)
          c[(gsize) i * ldc + j] += sum;
        else
          c[(gsize) i * ldc + j] = sum;
      }
}

void
refsr_sgemm_portable (int m, int n, int k, const float *a, int lda,
                      const float *b, int ldb, float *c, int ldc,
                      gboolean accumulate)
{
  refsr_sgemm_ref (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void
refsr_sgemm (int m, int n, int k, const float *a, int lda,
             const float *b, int ldb, float *c, int ldc,
             gboolean accumulate)
{
  refsr_sgemm_portable (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

const char *
refsr_sgemm_backend (void)
{
  return "portable";
}
