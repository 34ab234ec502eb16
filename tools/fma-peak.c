/* fma-peak.c — a micro-benchmark of the fp32 FMA peak.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each thread runs CHAINS independent accumulators, so that the FMA
 * latency (4 cycles) is hidden behind the two FMA ports: 4 × 2 = 8 chains
 * would do, 12 leave slack and still fit the 16 registers of AVX2. */
#include "fma-peak.h"

#if defined(__GNUC__) && !defined(__clang__)
/* A debug (-O0) build would keep the chains in memory and time the loads
 * and stores: the peak is a property of the CPU, not of the build. */
#pragma GCC optimize ("O2")
#endif

#include <glib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_KERNELS 1
#endif

#define CHAINS 12
/* Unrolled by hand: a loop over an array of accumulators may stay in
 * memory at -O2 and measure the store forwarding instead. */
#define TWELVE_TIMES(op) \
  op (0) op (1) op (2) op (3) op (4) op (5) \
  op (6) op (7) op (8) op (9) op (10) op (11)
#define ITERATIONS 2000000 /* per repeat: 12 · 2M FMAs, ~10 ms at peak */
#define REPEATS 7

/* Each returns the FLOPs it performed and stores a sum into *sink, so
 * that the compiler cannot drop the chains. */

#ifdef HAVE_X86_KERNELS
__attribute__ ((target ("avx512f"))) static double
chains_avx512 (float seed, float *sink)
{
  __m512 x = _mm512_set1_ps (0.999999f), y = _mm512_set1_ps (seed * 1e-7f);
  __m512 sum = _mm512_setzero_ps ();
#define DECLARE(n) __m512 a##n = _mm512_set1_ps (seed + n);
#define STEP(n) a##n = _mm512_fmadd_ps (a##n, x, y);
#define ADD(n) sum = _mm512_add_ps (sum, a##n);
  TWELVE_TIMES (DECLARE)
  for (long i = 0; i < ITERATIONS; i++)
    {
      TWELVE_TIMES (STEP)
    }
  TWELVE_TIMES (ADD)
#undef DECLARE
#undef STEP
#undef ADD
  *sink = _mm512_reduce_add_ps (sum);
  return 2.0 * 16 * CHAINS * ITERATIONS;
}

__attribute__ ((target ("avx2,fma"))) static double
chains_avx2 (float seed, float *sink)
{
  __m256 x = _mm256_set1_ps (0.999999f), y = _mm256_set1_ps (seed * 1e-7f);
  __m256 sum = _mm256_setzero_ps ();
  float lanes[8];
#define DECLARE(n) __m256 a##n = _mm256_set1_ps (seed + n);
#define STEP(n) a##n = _mm256_fmadd_ps (a##n, x, y);
#define ADD(n) sum = _mm256_add_ps (sum, a##n);
  TWELVE_TIMES (DECLARE)
  for (long i = 0; i < ITERATIONS; i++)
    {
      TWELVE_TIMES (STEP)
    }
  TWELVE_TIMES (ADD)
#undef DECLARE
#undef STEP
#undef ADD
  _mm256_storeu_ps (lanes, sum);
  *sink = lanes[0] + lanes[7];
  return 2.0 * 8 * CHAINS * ITERATIONS;
}
#endif

/* Any CPU: four-lane vectors, a multiply and an add where there is no
 * FMA (still 2 FLOPs per lane). */
typedef float Vec4 __attribute__ ((vector_size (16)));

static double
chains_generic (float seed, float *sink)
{
  Vec4 x = { 0.999999f, 0.999999f, 0.999999f, 0.999999f };
  Vec4 y = x * (seed * 1e-7f);
  Vec4 sum = { 0.0f };
#define DECLARE(n) Vec4 a##n = { seed + n, seed, seed, seed };
#define STEP(n) a##n = a##n * x + y;
#define ADD(n) sum += a##n;
  TWELVE_TIMES (DECLARE)
  for (long i = 0; i < ITERATIONS; i++)
    {
      TWELVE_TIMES (STEP)
    }
  TWELVE_TIMES (ADD)
#undef DECLARE
#undef STEP
#undef ADD
  *sink = sum[0] + sum[3];
  return 2.0 * 4 * CHAINS * ITERATIONS;
}

typedef double (*ChainsFunc) (float seed, float *sink);

static ChainsFunc
widest_chains (const char **isa)
{
#ifdef HAVE_X86_KERNELS
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    {
      *isa = "avx512f";
      return chains_avx512;
    }
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    {
      *isa = "avx2+fma";
      return chains_avx2;
    }
#endif
  *isa = "generic";
  return chains_generic;
}

double
fma_peak_gflops (int n_threads, const char **isa)
{
  const char *name;
  ChainsFunc chains = widest_chains (&name);
  double best = 0.0;
  volatile float sink = 0.0f;

  if (isa != NULL)
    *isa = name;
  for (int r = 0; r < REPEATS; r++)
    {
      double flops = 0.0;
      gint64 start = g_get_monotonic_time ();

#pragma omp parallel num_threads (MAX (n_threads, 1)) reduction (+:flops)
      {
        float s;

        flops += chains (1.0f + r, &s);
        sink = s;
      }
      double seconds = (g_get_monotonic_time () - start) / 1e6;

      best = MAX (best, flops / seconds / 1e9);
    }
  (void) sink;
  return best;
}
