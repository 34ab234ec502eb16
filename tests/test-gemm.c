/* test-gemm.c — the optimised matrix products against the plain loop.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "gemm.h"

typedef void (*GemmFunc) (int m, int n, int k, const float *a, int lda,
                          const float *b, int ldb, float *c, int ldc,
                          gboolean accumulate);

static void
fill_random (GRand *rand, float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
}

/* Runs gemm and the reference on the same random operands, with padded
 * leading dimensions whose padding must stay untouched, and compares. */
static void
check_against_ref (GemmFunc gemm, int m, int n, int k, int pad,
                   gboolean accumulate)
{
  GRand *rand = g_rand_new_with_seed (m * 10007 + n * 101 + k);
  int lda = k + pad, ldb = n + pad, ldc = n + pad;
  /* One spare element so that empty operands are still real buffers. */
  gsize size_a = (gsize) m * lda + 1, size_b = (gsize) k * ldb + 1;
  gsize size_c = (gsize) m * ldc + 1;
  float *a = g_new (float, size_a);
  float *b = g_new (float, size_b);
  float *c = g_new (float, size_c);
  float *expected = g_new (float, size_c);

  fill_random (rand, a, size_a);
  fill_random (rand, b, size_b);
  fill_random (rand, c, size_c);
  memcpy (expected, c, sizeof (float) * size_c);

  refsr_sgemm_ref (m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
  gemm (m, n, k, a, lda, b, ldb, c, ldc, accumulate);

  for (int i = 0; i < m; i++)
    for (int j = 0; j < ldc; j++)
      {
        float want = expected[(gsize) i * ldc + j];
        float got = c[(gsize) i * ldc + j];

        if (j >= n)
          g_assert_cmpfloat (got, ==, want); /* padding untouched */
        else
          /* Terms are in [-1, 1]: the error of a different summation
           * order grows with sqrt(k) at most. */
          g_assert_cmpfloat (fabsf (got - want), <=,
                             1e-5f * (2.0f + sqrtf ((float) k)));
      }
  g_free (a);
  g_free (b);
  g_free (c);
  g_free (expected);
  g_rand_free (rand);
}

static void check_concurrent (GemmFunc gemm);

static void
check_sizes (GemmFunc gemm)
{
  static const int sizes[][3] = {
    { 1, 1, 1 }, { 1, 7, 3 }, { 5, 1, 9 }, { 7, 13, 5 }, { 6, 16, 256 },
    { 13, 17, 257 }, { 64, 300, 576 }, { 3, 513, 31 }, { 65, 47, 600 },
    { 4, 5, 0 }, { 0, 5, 4 }, { 5, 0, 4 },
  };

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int pad = 0; pad <= 3; pad += 3)
      for (int accumulate = 0; accumulate <= 1; accumulate++)
        check_against_ref (gemm, sizes[s][0], sizes[s][1], sizes[s][2], pad,
                           accumulate);
}

static void
test_portable (void)
{
  check_sizes (refsr_sgemm_portable);
}

static void
test_dispatch (void)
{
  check_sizes (refsr_sgemm);
}

/* Each backend the build has, whichever refsr_sgemm picks. */
static RefsrGemmBackend backend_under_test;

static void
gemm_on_backend_under_test (int m, int n, int k, const float *a, int lda,
                            const float *b, int ldb, float *c, int ldc,
                            gboolean accumulate)
{
  refsr_sgemm_with (backend_under_test, m, n, k, a, lda, b, ldb, c, ldc,
                    accumulate);
}

static void
test_every_backend (void)
{
  for (int b = 0; b < REFSR_GEMM_N_BACKENDS; b++)
    if (refsr_sgemm_backend_built (b))
      {
        backend_under_test = b;
        check_sizes (gemm_on_backend_under_test);
        check_concurrent (gemm_on_backend_under_test);
      }
}

/* A 2×2 product worked out by hand, so the reference itself is checked. */
static void
test_ref_by_hand (void)
{
  const float a[] = { 1, 2, 3, 4 };
  const float b[] = { 5, 6, 7, 8 };
  float c[] = { 1, 1, 1, 1 };

  refsr_sgemm_ref (2, 2, 2, a, 2, b, 2, c, 2, TRUE);
  g_assert_cmpfloat (c[0], ==, 1 + 19);
  g_assert_cmpfloat (c[1], ==, 1 + 22);
  g_assert_cmpfloat (c[2], ==, 1 + 43);
  g_assert_cmpfloat (c[3], ==, 1 + 50);
  refsr_sgemm_ref (2, 2, 2, a, 2, b, 2, c, 2, FALSE);
  g_assert_cmpfloat (c[0], ==, 19);
  g_assert_cmpfloat (c[3], ==, 50);
}

/* The products run on the calling thread, so OpenMP threads may run
 * them side by side: each result must equal the one computed alone. */
static void
check_concurrent (GemmFunc gemm)
{
  enum { N_JOBS = 6, M = 64, N = 333, K = 300 };
  GRand *rand = g_rand_new_with_seed (42);
  float *a = g_new (float, M * K), *b = g_new (float, K * N);
  float *alone = g_new (float, (gsize) N_JOBS * M * N);
  float *together = g_new (float, (gsize) N_JOBS * M * N);

  fill_random (rand, a, M * K);
  fill_random (rand, b, K * N);
  /* Job j uses the operands shifted by j, so the jobs differ. */
  for (int j = 0; j < N_JOBS; j++)
    gemm (M, N - j, K - j, a + j, K, b + j, N, alone + (gsize) j * M * N, N,
          FALSE);

#pragma omp parallel for num_threads(2) schedule(dynamic, 1)
  for (int j = 0; j < N_JOBS; j++)
    gemm (M, N - j, K - j, a + j, K, b + j, N, together + (gsize) j * M * N,
          N, FALSE);

  for (int j = 0; j < N_JOBS; j++)
    for (int i = 0; i < M; i++)
      g_assert_cmpmem (alone + ((gsize) j * M + i) * N,
                       (N - j) * sizeof (float),
                       together + ((gsize) j * M + i) * N,
                       (N - j) * sizeof (float));
  g_free (a);
  g_free (b);
  g_free (alone);
  g_free (together);
  g_rand_free (rand);
}

static void
test_concurrent (void)
{
  check_concurrent (refsr_sgemm_portable);
  check_concurrent (refsr_sgemm);
}

static void
test_backend_name (void)
{
  const char *name = refsr_sgemm_backend ();

  g_assert_true (g_str_equal (name, "onednn")
                 || g_str_equal (name, "openblas") || g_str_equal (name, "cblas")
                 || g_str_equal (name, "portable"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gemm/ref-by-hand", test_ref_by_hand);
  g_test_add_func ("/gemm/portable", test_portable);
  g_test_add_func ("/gemm/dispatch", test_dispatch);
  g_test_add_func ("/gemm/concurrent", test_concurrent);
  g_test_add_func ("/gemm/backend-name", test_backend_name);
  g_test_add_func ("/gemm/every-backend", test_every_backend);
  return g_test_run ();
}
