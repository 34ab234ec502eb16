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
#ifdef REFSR_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
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

/* The portable kernel: the classic Goto scheme.  A KC×NC block of B is
 * packed into strips of NR columns (256 KiB, stays in L2), MR rows of A
 * into a KC×MR sliver (L1), and a fixed-size micro-kernel keeps an MR×NR
 * tile of C in registers.  The fixed sizes let GCC vectorise and fully
 * unroll the tile; 6×16 fits the 16 ymm registers of AVX2 (12
 * accumulators) as well as AVX-512 (6 zmm).  Packing pads with zeros, so
 * edges run the same micro-kernel and only the store is clipped. */
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_KC 256
#define GEMM_NC 256

#if defined(__GNUC__) && !defined(__clang__)
/* ISO C mode turns off fusing a*b+c into one FMA; the micro-kernel wants
 * it (twice the throughput).  Clang fuses within a statement already. */
#pragma GCC optimize ("fp-contract=fast")
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GEMM_TARGET_CLONES \
  __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define GEMM_TARGET_CLONES
#endif

typedef struct
{
  float b[GEMM_KC * GEMM_NC]; /* 64-byte aligned: read as GemmRow */
  float a[GEMM_KC * GEMM_MR];
} GemmPack;

/* Each thread packs into its own buffer, so concurrent calls from OpenMP
 * threads do not share one; it is made on the thread's first call and
 * freed when the thread ends. */
static GPrivate gemm_pack_key = G_PRIVATE_INIT (g_free);

static GemmPack *
gemm_pack_get (void)
{
  guint8 *raw = g_private_get (&gemm_pack_key);

  if (raw == NULL)
    {
      raw = g_try_malloc (sizeof (GemmPack) + 63);
      if (raw == NULL)
        return NULL;
      g_private_set (&gemm_pack_key, raw);
    }
  return (GemmPack *) (((guintptr) raw + 63) & ~(guintptr) 63);
}

static void
pack_b (int kc, int nc, const float *b, int ldb, float *packed)
{
  for (int j0 = 0; j0 < nc; j0 += GEMM_NR)
    {
      int nr = MIN (GEMM_NR, nc - j0);

      for (int p = 0; p < kc; p++)
        {
          const float *src = b + (gsize) p * ldb + j0;
          float *dst = packed + (gsize) j0 * kc + p * GEMM_NR;

          memcpy (dst, src, nr * sizeof (float));
          for (int j = nr; j < GEMM_NR; j++)
            dst[j] = 0.0f;
        }
    }
}

static void
pack_a (int mr, int kc, const float *a, int lda, float *packed)
{
  for (int p = 0; p < kc; p++)
    for (int r = 0; r < GEMM_MR; r++)
      packed[p * GEMM_MR + r] = r < mr ? a[(gsize) r * lda + p] : 0.0f;
}

/* One row of the C tile.  A generic vector: each clone of gemm_block
 * lowers it to one zmm, two ymm or four xmm registers. */
typedef float GemmRow __attribute__ ((vector_size (GEMM_NR * sizeof (float))));

/* Inlined into each clone of gemm_block, so it is compiled per target. */
static inline __attribute__ ((always_inline)) void
micro_kernel (int kc, const float *restrict ap, const float *restrict bp,
              float *restrict c, int ldc, int mr, int nr, gboolean overwrite)
{
  GemmRow acc[GEMM_MR];
  float tile[GEMM_MR][GEMM_NR];

  for (int r = 0; r < GEMM_MR; r++)
    acc[r] = (GemmRow) { 0.0f };
  for (int p = 0; p < kc; p++)
    {
      GemmRow b = *(const GemmRow *) (bp + p * GEMM_NR);

      for (int r = 0; r < GEMM_MR; r++)
        acc[r] += ap[p * GEMM_MR + r] * b;
    }
  memcpy (tile, acc, sizeof tile);
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++)
      {
        if (overwrite)
          c[(gsize) r * ldc + j] = tile[r][j];
        else
          c[(gsize) r * ldc + j] += tile[r][j];
      }
}

/* C[m×nc] (+)= A[m×kc] · packed B block. */
GEMM_TARGET_CLONES
static void
gemm_block (int m, int nc, int kc, const float *a, int lda,
            const float *packed_b, float *packed_a, float *c, int ldc,
            gboolean overwrite)
{

  for (int i0 = 0; i0 < m; i0 += GEMM_MR)
    {
      int mr = MIN (GEMM_MR, m - i0);

      pack_a (mr, kc, a + (gsize) i0 * lda, lda, packed_a);
      for (int j0 = 0; j0 < nc; j0 += GEMM_NR)
        micro_kernel (kc, packed_a, packed_b + (gsize) j0 * kc,
                      c + (gsize) i0 * ldc + j0, ldc, mr,
                      MIN (GEMM_NR, nc - j0), overwrite);
    }
}

static void
zero_or_keep (int m, int n, float *c, int ldc, gboolean accumulate)
{
  if (accumulate)
    return;
  for (int i = 0; i < m; i++)
    memset (c + (gsize) i * ldc, 0, n * sizeof (float));
}

void
refsr_sgemm_portable (int m, int n, int k, const float *a, int lda,
                      const float *b, int ldb, float *c, int ldc,
                      gboolean accumulate)
{
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0)
    {
      zero_or_keep (m, n, c, ldc, accumulate);
      return;
    }
  GemmPack *pack = gemm_pack_get ();

  if (pack == NULL)
    {
      /* Out of memory for 260 KiB: still give the right answer. */
      refsr_sgemm_ref (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      return;
    }
  for (int j0 = 0; j0 < n; j0 += GEMM_NC)
    {
      int nc = MIN (GEMM_NC, n - j0);

      for (int p0 = 0; p0 < k; p0 += GEMM_KC)
        {
          int kc = MIN (GEMM_KC, k - p0);

          pack_b (kc, nc, b + (gsize) p0 * ldb + j0, ldb, pack->b);
          gemm_block (m, nc, kc, a + p0, lda, pack->b, pack->a, c + j0, ldc,
                      p0 == 0 && !accumulate);
        }
    }
}

#ifdef REFSR_HAVE_OPENBLAS
/* OpenBLAS would otherwise start its own thread pool inside each call;
 * the callers already split the work over OpenMP threads. */
static gpointer
openblas_single_thread (G_GNUC_UNUSED gpointer data)
{
  openblas_set_num_threads (1);
  return NULL;
}
#endif

#ifdef REFSR_HAVE_CBLAS
static void
sgemm_cblas (int m, int n, int k, const float *a, int lda, const float *b,
             int ldb, float *c, int ldc, gboolean accumulate)
{
#ifdef REFSR_HAVE_OPENBLAS
  static GOnce once = G_ONCE_INIT;

  g_once (&once, openblas_single_thread, NULL);
#endif
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
               1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
}
#endif

#ifdef REFSR_HAVE_DNNL
/* oneDNN threads a product over omp_get_max_threads () threads when it is
 * called outside an active parallel region (a team of one is not
 * active).  The callers split the work themselves, and a product split
 * differently may round differently, so every call is held to the calling
 * thread: the OpenMP setting is per thread, and restored after. */
static void
sgemm_dnnl (int m, int n, int k, const float *a, int lda, const float *b,
            int ldb, float *c, int ldc, gboolean accumulate)
{
  int team = omp_get_max_threads ();
  dnnl_status_t status;

  omp_set_num_threads (1);
  status = dnnl_sgemm ('N', 'N', m, n, k, 1.0f, a, lda, b, ldb,
                       accumulate ? 1.0f : 0.0f, c, ldc);
  omp_set_num_threads (team);
  /* It fails only when its packing buffers cannot be had: still give the
   * right answer. */
  if (status != dnnl_success)
    refsr_sgemm_portable (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
#endif

gboolean
refsr_sgemm_backend_built (RefsrGemmBackend backend)
{
  switch (backend)
    {
    case REFSR_GEMM_PORTABLE:
      return TRUE;
    case REFSR_GEMM_CBLAS:
#ifdef REFSR_HAVE_CBLAS
      return TRUE;
#else
      return FALSE;
#endif
    case REFSR_GEMM_DNNL:
#ifdef REFSR_HAVE_DNNL
      return TRUE;
#else
      return FALSE;
#endif
    default:
      return FALSE;
    }
}

const char *
refsr_sgemm_backend_name (RefsrGemmBackend backend)
{
  switch (backend)
    {
    case REFSR_GEMM_PORTABLE:
      return "portable";
    case REFSR_GEMM_CBLAS:
#ifdef REFSR_HAVE_OPENBLAS
      return "openblas";
#else
      return "cblas";
#endif
    case REFSR_GEMM_DNNL:
      return "onednn";
    default:
      return "none";
    }
}

void
refsr_sgemm_with (RefsrGemmBackend backend, int m, int n, int k,
                  const float *a, int lda, const float *b, int ldb,
                  float *c, int ldc, gboolean accumulate)
{
  g_return_if_fail (refsr_sgemm_backend_built (backend));
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0)
    {
      zero_or_keep (m, n, c, ldc, accumulate);
      return;
    }
  switch (backend)
    {
#ifdef REFSR_HAVE_DNNL
    case REFSR_GEMM_DNNL:
      sgemm_dnnl (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      break;
#endif
#ifdef REFSR_HAVE_CBLAS
    case REFSR_GEMM_CBLAS:
      sgemm_cblas (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      break;
#endif
    default:
      refsr_sgemm_portable (m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      break;
    }
}

static RefsrGemmBackend chosen_backend = REFSR_GEMM_N_BACKENDS;

void
refsr_sgemm_use (RefsrGemmBackend backend)
{
  g_return_if_fail (backend == REFSR_GEMM_N_BACKENDS
                    || refsr_sgemm_backend_built (backend));
  chosen_backend = backend;
}

/* See gemm.h for why this is not oneDNN. */
static RefsrGemmBackend
default_backend (void)
{
  if (chosen_backend != REFSR_GEMM_N_BACKENDS)
    return chosen_backend;
  return refsr_sgemm_backend_built (REFSR_GEMM_CBLAS) ? REFSR_GEMM_CBLAS
                                                       : REFSR_GEMM_PORTABLE;
}

RefsrGemmBackend
refsr_sgemm_fastest (void)
{
  if (chosen_backend != REFSR_GEMM_N_BACKENDS)
    return chosen_backend;
  return refsr_sgemm_backend_built (REFSR_GEMM_DNNL) ? REFSR_GEMM_DNNL
                                                      : default_backend ();
}

void
refsr_sgemm (int m, int n, int k, const float *a, int lda,
             const float *b, int ldb, float *c, int ldc,
             gboolean accumulate)
{
  refsr_sgemm_with (default_backend (), m, n, k, a, lda, b, ldb, c, ldc,
                    accumulate);
}

const char *
refsr_sgemm_backend (void)
{
  return refsr_sgemm_backend_name (default_backend ());
}
