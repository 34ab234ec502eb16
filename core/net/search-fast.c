/* search-fast.c — approximate relevance search in near-linear time: an
 * exact search on average-pooled features, then PatchMatch-style
 * refinement at full resolution (spec §5.2 steps 1-2).
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "refsr-config.h"

#include <math.h>
#include <string.h>

#include "search-fast.h"
#include "search.h"
#include "spill.h"

/* ---------------------------------------------------------------------
 * The method.
 *
 * 1. Coarse pass.  Query and key are average-pooled by a factor f and
 *    searched exactly (refsr_search).  f is the smallest factor that keeps
 *    the coarse pass within COARSE_SHARE of the refinement's work, so the
 *    whole stays near-linear; where the exact search would take no longer
 *    than the refinement (EXACT_SPEEDUP), f = 1 and the exact search is
 *    the answer.
 *    Position p = (y, x) starts from the reference position at the same
 *    place inside the block its pooled block matched.
 *
 * 2. Refinement, in sweeps.  Every sweep, every position evaluates
 *    - the offset (q - p) of the position before it in its row, already
 *      updated in this sweep (rows are scanned left to right in even
 *      sweeps, right to left in odd ones), so a good offset runs along a
 *      whole row in one sweep, as in PatchMatch's scan order;
 *    - the offsets the previous sweep left at its 8 neighbours at
 *      distance k (k cycles through 8, 4, 2, 1: jump flooding, so that a
 *      good offset also crosses the map vertically in a few sweeps);
 *    - random_samples reference positions around its current best, at
 *      radii spaced geometrically from the reference's size down to 1,
 *      drawn from a hash of (position, sweep, sample),
 *    and keeps the best of those and its current one.  Rows are
 *    independent within a sweep: each reads the previous sweep's result
 *    of the other rows and writes a second buffer (Jacobi form across
 *    rows), so nothing depends on which thread runs which row, and the
 *    result is the same for any thread count.
 *
 * Every evaluation is exact: the 9·C patch dot product of the raw
 * features (pixel-major copies with a zero border, so each pixel pair is
 * one contiguous C-long product) times the two inverse patch norms,
 * computed as refsr_search computes them.  S is therefore the cosine of
 * the patch picked, to a few ulps.  The order is refsr_search's: larger
 * value, then smaller q.  A query patch that is all zero has R = 0 for
 * every q, so it gets q = 0 as in the exact search.  A candidate is
 * dropped as soon as a Cauchy-Schwarz bound proves it cannot reach the
 * current best (patch_cosine), which saves work but changes nothing.
 *
 * Knobs (RefsrSearchFastParams; defaults in search-fast.h): the sweeps
 * (8), the random samples per sweep (6), the pool factor (from the
 * sizes).  On photos at LR 120², reference 480² (tools/search-compare.c)
 * more sweeps is what lowers the mean loss of S most.
 *
 * Memory: the refinement holds both padded copies ((h+2)(w+2) +
 * (Hr+2)(Wr+2)) · C floats, their pixel and patch norms and one more
 * idx/S buffer; the coarse pass (before it) the pooled maps and
 * refsr_search's scratch for them.  The peak is the larger: O(P + Q).
 * ------------------------------------------------------------------- */

/* F.normalize clamps the norm from below by this. */
#define NORM_EPS 1e-12f

/* The coarse pass may take at most this multiple of the refinement's
 * multiply-adds; as a GEMM it does them about EXACT_SPEEDUP times faster,
 * so it takes at most about as long as the refinement.  A finer coarse
 * pass is the knob that lowers the loss of S most for its cost (LR 120²
 * against a 960² reference: pool 3 loses 0.0087 of mean S, pool 2
 * 0.0051, 12 sweeps instead of 8 only 0.0077). */
#define COARSE_SHARE 4.0

/* What the rounding of a partial dot product and its Cauchy-Schwarz bound
 * can be off by (values are cosines, at most 1; the errors are ~1e-6). */
#define BOUND_MARGIN 1e-4f

/* The exact search's GEMM does about this many times more multiply-adds
 * per second than the refinement's scattered patch products (measured
 * with tools/search-compare.c: 19 against 4 GMAC/s on a Xeon with
 * AVX-512), so below this ratio of work the exact search is faster. */
#define EXACT_SPEEDUP 5.0

/* Neighbour candidates per position and sweep. */
#define N_NEIGHBOURS 8

/* Bound on random_samples: the candidates of one position live on the
 * stack. */
#define MAX_RANDOM_SAMPLES 64

/* The channel count the MAC estimates assume (LTE lv3). */
#define ESTIMATE_CHANNELS 256

/* The dot products are the hot loop, marked WIDEST_VECTORS (search.h);
 * the PARTIAL_SUMS partial sums fix the order of the additions in the
 * source, so every variant gives the same bits. */
typedef struct
{
  int pool_factor;
  int iterations;
  int random_samples;
} Knobs;

/* Multiply-adds of one sweep at one position (every candidate new). */
static double
sweep_macs_per_position (int random_samples, int c)
{
  return (1 + N_NEIGHBOURS + random_samples) * 9.0 * c;
}

static double
refinement_macs (int h, int w, const Knobs *knobs, int c)
{
  /* the starting positions' evaluation, then the sweeps */
  return (double) h * w * 9.0 * c
         * (1.0 + knobs->iterations
                  * (1 + N_NEIGHBOURS + knobs->random_samples));
}

static double
exact_macs (int h, int w, int key_h, int key_w, int c)
{
  return (c + 9.0) * h * w * (double) key_h * key_w;
}

static int
pooled (int n, int f)
{
  return (n + f - 1) / f;
}

/* The smallest pool factor whose coarse pass stays within COARSE_SHARE of
 * the refinement; 1 where the exact search would take no longer than the
 * refinement (up to about 72² positions on each side). */
static int
choose_pool_factor (int h, int w, int key_h, int key_w, const Knobs *knobs)
{
  double refine = refinement_macs (h, w, knobs, ESTIMATE_CHANNELS);
  int f;

  if (exact_macs (h, w, key_h, key_w, ESTIMATE_CHANNELS)
      <= EXACT_SPEEDUP * refine)
    return 1;
  for (f = 2; f < MAX (MAX (h, w), MAX (key_h, key_w)); f++)
    if (exact_macs (pooled (h, f), pooled (w, f), pooled (key_h, f),
                    pooled (key_w, f), ESTIMATE_CHANNELS)
        <= COARSE_SHARE * refine)
      break;
  return f;
}

static void
knobs_init (Knobs *knobs, const RefsrSearchFastParams *params, int h, int w,
            int key_h, int key_w)
{
  knobs->iterations = params != NULL && params->iterations > 0
                      ? params->iterations : REFSR_SEARCH_FAST_ITERATIONS;
  knobs->random_samples = params != NULL && params->random_samples > 0
                          ? MIN (params->random_samples, MAX_RANDOM_SAMPLES)
                          : REFSR_SEARCH_FAST_RANDOM_SAMPLES;
  knobs->pool_factor = params != NULL && params->pool_factor > 0
                       ? params->pool_factor
                       : choose_pool_factor (h, w, key_h, key_w, knobs);
}

int
refsr_search_fast_pool_factor (int h, int w, int key_h, int key_w)
{
  Knobs knobs;

  knobs_init (&knobs, NULL, h, w, key_h, key_w);
  return knobs.pool_factor;
}

/* Floats of the refinement's buffers (both padded copies and the norms),
 * and bytes of its second idx/S buffer. */
static gsize
refinement_bytes (int c, int h, int w, int key_h, int key_w)
{
  gsize pixels = (gsize) (h + 2) * (w + 2) + (gsize) (key_h + 2) * (key_w + 2);
  /* padded copies, their pixel norms, the patch norms */
  gsize floats = pixels * (c + 1) + (gsize) h * w + (gsize) key_h * key_w;

  return floats * sizeof (float)
         + (gsize) h * w * (sizeof (gint64) + sizeof (float));
}

static gsize
coarse_bytes (int c, int h, int w, int key_h, int key_w, int f,
              int n_threads)
{
  int ph = pooled (h, f), pw = pooled (w, f);
  int pkh = pooled (key_h, f), pkw = pooled (key_w, f);

  return ((gsize) ph * pw + (gsize) pkh * pkw) * c * sizeof (float)
         + (gsize) ph * pw * (sizeof (gint64) + sizeof (float))
         + refsr_search_scratch_bytes (c, ph, pw, pkh, pkw, n_threads);
}

gsize
refsr_search_fast_scratch_bytes (int c, int h, int w, int key_h, int key_w,
                                 int n_threads)
{
  int f = refsr_search_fast_pool_factor (h, w, key_h, key_w);

  if (f == 1)
    return refsr_search_scratch_bytes (c, h, w, key_h, key_w, n_threads);
  return MAX (coarse_bytes (c, h, w, key_h, key_w, f, n_threads),
              refinement_bytes (c, h, w, key_h, key_w));
}

double
refsr_search_fast_macs (int h, int w, int key_h, int key_w)
{
  Knobs knobs;
  int f;

  knobs_init (&knobs, NULL, h, w, key_h, key_w);
  f = knobs.pool_factor;
  if (f == 1)
    return exact_macs (h, w, key_h, key_w, ESTIMATE_CHANNELS);
  return exact_macs (pooled (h, f), pooled (w, f), pooled (key_h, f),
                     pooled (key_w, f), ESTIMATE_CHANNELS)
         + refinement_macs (h, w, &knobs, ESTIMATE_CHANNELS);
}

/* ---------------------------------------------------------------------
 * Coarse pass.
 * ------------------------------------------------------------------- */

/* out (allocated here) = t average-pooled by f; blocks cut by the map's
 * edge average the pixels they hold. */
static gboolean
average_pool (const RefsrTensor *t, int f, RefsrTensor *out, GError **error)
{
  if (!refsr_tensor_alloc (out, t->c, pooled (t->h, f), pooled (t->w, f),
                           error))
    return FALSE;
  for (int c = 0; c < t->c; c++)
    for (int by = 0; by < out->h; by++)
      for (int bx = 0; bx < out->w; bx++)
        {
          int y1 = MIN ((by + 1) * f, t->h), x1 = MIN ((bx + 1) * f, t->w);
          float sum = 0.0f;

          for (int y = by * f; y < y1; y++)
            for (int x = bx * f; x < x1; x++)
              sum += t->data[((gsize) c * t->h + y) * t->w + x];
          out->data[((gsize) c * out->h + by) * out->w + bx]
            = sum / (float) ((y1 - by * f) * (x1 - bx * f));
        }
  return TRUE;
}

/* Searches the pooled maps exactly and turns each position's block match
 * into its starting reference position (same place inside the block,
 * clamped to the reference), written to idx. */
static gboolean
coarse_start (const RefsrTensor *query, const RefsrTensor *key, int f,
              gint64 *idx, const RefsrExec *exec, GError **error)
{
  RefsrTensor pq = { 0 }, pk = { 0 };
  gint64 *block_idx = NULL;
  float *block_S = NULL;
  gboolean ok;

  ok = average_pool (query, f, &pq, error)
       && average_pool (key, f, &pk, error)
       && (block_idx = refsr_try_alloc ((gsize) pq.h * pq.w, sizeof (gint64),
                                        error)) != NULL
       && (block_S = refsr_try_alloc ((gsize) pq.h * pq.w, sizeof (float),
                                      error)) != NULL
       && refsr_search (&pq, &pk, block_idx, block_S, exec, error);
  if (ok)
    for (int y = 0; y < query->h; y++)
      for (int x = 0; x < query->w; x++)
        {
          gint64 b = block_idx[(gsize) (y / f) * pq.w + x / f];
          int qy = MIN ((int) (b / pk.w) * f + y % f, key->h - 1);
          int qx = MIN ((int) (b % pk.w) * f + x % f, key->w - 1);

          idx[(gsize) y * query->w + x] = (gint64) qy * key->w + qx;
        }
  g_free (block_S);
  g_free (block_idx);
  refsr_tensor_clear (&pq);
  refsr_tensor_clear (&pk);
  return ok;
}

/* ---------------------------------------------------------------------
 * Refinement.
 * ------------------------------------------------------------------- */

typedef struct
{
  int c;
  int h, w, key_h, key_w;
  const float *query_pad;  /* (h+2)·(w+2)·C, pixel-major, zero border */
  const float *key_pad;    /* (Hr+2)·(Wr+2)·C */
  const float *query_inv;  /* h·w inverse patch norms, 0 for a zero patch */
  const float *key_inv;    /* Hr·Wr */
  const float *query_norm; /* (h+2)·(w+2) pixel norms, 0 on the border */
  const float *key_norm;   /* (Hr+2)·(Wr+2) */
} Maps;

/* Pixel-major copy of t with a one-pixel zero border:
 * pad[((y+1)·(w+2) + x+1)·C + c] = t[c, y, x]. */
static void
pack_padded (const RefsrTensor *t, float *pad, int n_workers)
{
  gsize row_floats = (gsize) (t->w + 2) * t->c;

  memset (pad, 0, row_floats * sizeof (float));
  memset (pad + (gsize) (t->h + 1) * row_floats, 0,
          row_floats * sizeof (float));
#pragma omp parallel for num_threads (n_workers) schedule (static)
  for (int y = 0; y < t->h; y++)
    {
      float *row = pad + (gsize) (y + 1) * row_floats;

      memset (row, 0, t->c * sizeof (float));
      memset (row + (gsize) (t->w + 1) * t->c, 0, t->c * sizeof (float));
      for (int c = 0; c < t->c; c++)
        {
          const float *src = t->data + ((gsize) c * t->h + y) * t->w;

          for (int x = 0; x < t->w; x++)
            row[(gsize) (x + 1) * t->c + c] = src[x];
        }
    }
}

/* 1 / max(‖patch‖, NORM_EPS) of the zero-padded 3×3 patch around every
 * pixel, from the padded copy (squares summed in double, as refsr_search
 * does), or 0 for an all-zero patch, which is handled apart. */
static void
inverse_patch_norms (const float *pad, int c, int h, int w, float *inv,
                     int n_workers)
{
  gsize row_floats = (gsize) (w + 2) * c;

#pragma omp parallel for num_threads (n_workers) schedule (static)
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double sum_sq = 0.0;

        for (int a = 0; a < 3; a++)
          {
            const float *v = pad + (gsize) (y + a) * row_floats
                             + (gsize) x * c;

            for (int i = 0; i < 3 * c; i++)
              sum_sq += (double) v[i] * v[i];
          }
        inv[(gsize) y * w + x] = sum_sq == 0.0
                                 ? 0.0f
                                 : 1.0f / MAX ((float) sqrt (sum_sq),
                                               NORM_EPS);
      }
}

/* The L2 norm of every pixel's C-vector of the padded copy (0 on its
 * zero border), for the bounds of patch_cosine. */
static void
pixel_norms (const float *pad, int c, int h, int w, float *norm,
             int n_workers)
{
  gsize n = (gsize) (h + 2) * (w + 2);

#pragma omp parallel for num_threads (n_workers) schedule (static)
  for (gsize i = 0; i < n; i++)
    {
      double sum_sq = 0.0;

      for (int j = 0; j < c; j++)
        sum_sq += (double) pad[i * c + j] * pad[i * c + j];
      norm[i] = (float) sqrt (sum_sq);
    }
}

/* Σ a[i]·b[i] over n floats in PARTIAL_SUMS interleaved partial sums:
 * a fixed order of additions, which the compiler vectorises without
 * changing the result, and enough independent sums to hide the latency of
 * the vector adds. */
#define PARTIAL_SUMS 64

WIDEST_VECTORS static float
dot_product (const float *restrict a, const float *restrict b, int n)
{
  float part[PARTIAL_SUMS] = { 0 };
  int i = 0;

  for (; i + PARTIAL_SUMS <= n; i += PARTIAL_SUMS)
    for (int j = 0; j < PARTIAL_SUMS; j++)
      part[j] += a[i + j] * b[i + j];
  for (int j = 0; i < n; i++, j++)
    part[j] += a[i] * b[i];
  for (int step = PARTIAL_SUMS / 2; step >= 1; step /= 2)
    for (int j = 0; j < step; j++)
      part[j] += part[j + step];
  return part[0];
}

/* The cosine of query position p = (y, x) and reference position q, or
 * -INFINITY once it is certain to fall below floor: after each of the 9
 * pixel pairs, Cauchy-Schwarz bounds what the pairs left can add by the
 * products of their norms.  Most candidates are far worse than the
 * current best, and part of a patch tells so.  The margin covers the
 * rounding of the bound, so a candidate that could win or tie is always
 * evaluated whole, and the result is what a whole evaluation of every
 * candidate would give. */
static float
patch_cosine (const Maps *m, int y, int x, gint64 q, float floor)
{
  int qy = (int) (q / m->key_w), qx = (int) (q % m->key_w);
  gsize q_stride = (gsize) m->w + 2, k_stride = (gsize) m->key_w + 2;
  float scale = m->key_inv[q] * m->query_inv[(gsize) y * m->w + x];
  float rest[9], dot = 0.0f;

  /* rest[i]: the bound of what the pairs after pair i can add */
  rest[8] = 0.0f;
  for (int i = 7; i >= 0; i--)
    {
      gsize qp = (y + (i + 1) / 3) * q_stride + x + (i + 1) % 3;
      gsize kp = (qy + (i + 1) / 3) * k_stride + qx + (i + 1) % 3;

      rest[i] = rest[i + 1] + m->query_norm[qp] * m->key_norm[kp];
    }
  for (int i = 0; i < 9; i++)
    {
      gsize qp = (y + i / 3) * q_stride + x + i % 3;
      gsize kp = (qy + i / 3) * k_stride + qx + i % 3;

      dot += dot_product (m->query_pad + qp * m->c, m->key_pad + kp * m->c,
                          m->c);
      if ((dot + rest[i]) * scale < floor - BOUND_MARGIN)
        return -INFINITY;
    }
  return dot * m->key_inv[q] * m->query_inv[(gsize) y * m->w + x];
}

/* The exact search's order: larger value, then smaller q. */
static inline gboolean
better (float s, gint64 q, float best_s, gint64 best_q)
{
  return s > best_s || (s == best_s && q < best_q);
}

/* splitmix64's finaliser: a well-mixed 64-bit hash of z. */
static guint64
mix64 (guint64 z)
{
  z += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

typedef struct
{
  const Maps *maps;
  int sweep;
  int jump;
  int step;              /* +1: rows scanned left to right, -1: back */
  int n_radii;
  const int *radii;      /* of the random samples */
  const gint64 *idx_in;  /* the previous sweep's result */
  const float *S_in;
  gint64 *idx_out;       /* this sweep's (its row so far is final) */
  float *S_out;
} Sweep;

/* Adds q to the candidate list unless it is the current best or there
 * already (the neighbours of a coherent region propose the same q). */
static int
add_candidate (gint64 *list, int n, gint64 q, gint64 current)
{
  if (q == current)
    return n;
  for (int i = 0; i < n; i++)
    if (list[i] == q)
      return n;
  list[n] = q;
  return n + 1;
}

/* Adds the reference position at offset (dy, dx) from neighbour_q (the
 * match of the neighbour at (-dy, -dx) from the position), if inside. */
static int
add_shifted (const Maps *m, gint64 *list, int n, gint64 neighbour_q, int dy,
             int dx, gint64 current)
{
  int qy = (int) (neighbour_q / m->key_w) + dy;
  int qx = (int) (neighbour_q % m->key_w) + dx;

  if (qy < 0 || qy >= m->key_h || qx < 0 || qx >= m->key_w)
    return n;
  return add_candidate (list, n, (gint64) qy * m->key_w + qx, current);
}

/* Candidates of position (y, x): the offset of the row neighbour just
 * updated in this sweep (so a good offset runs along the whole row in one
 * sweep, as in PatchMatch's scan order), the offsets the previous sweep
 * left at the 8 neighbours at the sweep's jump, and random positions
 * around the current best. */
static int
gather_candidates (const Sweep *s, int y, int x, gint64 current,
                   gint64 *list)
{
  const Maps *m = s->maps;
  int n = 0, cy = (int) (current / m->key_w), cx = (int) (current % m->key_w);
  int k = s->jump, before = x - s->step;
  guint64 seed = mix64 (((guint64) y * m->w + x) ^ ((guint64) s->sweep << 48));

  if (before >= 0 && before < m->w)
    n = add_shifted (m, list, n, s->idx_out[(gsize) y * m->w + before], 0,
                     s->step, current);
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      {
        int ny = y + k * dy, nx = x + k * dx;

        if ((dy == 0 && dx == 0) || ny < 0 || ny >= m->h || nx < 0
            || nx >= m->w)
          continue;
        n = add_shifted (m, list, n, s->idx_in[(gsize) ny * m->w + nx],
                         -k * dy, -k * dx, current);
      }
  for (int i = 0; i < s->n_radii; i++)
    {
      int r = s->radii[i];
      guint64 bits = mix64 (seed + (guint64) i);
      int qy = cy + (int) ((bits & 0xffffffffu) % (guint64) (2 * r + 1)) - r;
      int qx = cx + (int) ((bits >> 32) % (guint64) (2 * r + 1)) - r;

      qy = CLAMP (qy, 0, m->key_h - 1);
      qx = CLAMP (qx, 0, m->key_w - 1);
      n = add_candidate (list, n, (gint64) qy * m->key_w + qx, current);
    }
  return n;
}

/* One sweep at position (y, x): the best of its current match and its
 * candidates, into the output buffers. */
static void
refine_position (const Sweep *s, int y, int x)
{
  const Maps *m = s->maps;
  gsize p = (gsize) y * m->w + x;
  gint64 best_q = s->idx_in[p];
  float best_S = s->S_in[p];
  gint64 list[1 + N_NEIGHBOURS + MAX_RANDOM_SAMPLES];

  if (m->query_inv[p] != 0.0f)
    {
      int n = gather_candidates (s, y, x, best_q, list);

      for (int i = 0; i < n; i++)
        {
          float r = patch_cosine (m, y, x, list[i], best_S);

          if (better (r, list[i], best_S, best_q))
            {
              best_S = r;
              best_q = list[i];
            }
        }
    }
  s->idx_out[p] = best_q;
  s->S_out[p] = best_S;
}

typedef struct
{
  int *rows_done;
  double *reported;
  double base_macs;   /* reported before the refinement (coarse pass) */
  double row_macs;    /* per row of positions and sweep (an estimate) */
} Progress;

/* S of the starting matches of row y; all-zero query patches get q = 0,
 * S = 0 (every q ties at R = 0, and the exact search keeps the first). */
static void
start_row (const Maps *m, int y, gint64 *idx, float *S)
{
  for (int x = 0; x < m->w; x++)
    {
      gsize p = (gsize) y * m->w + x;

      if (m->query_inv[p] == 0.0f)
        {
          idx[p] = 0;
          S[p] = 0.0f;
        }
      else
        S[p] = patch_cosine (m, y, x, idx[p], -INFINITY);
    }
}

/* Row y of a sweep, in the sweep's scan direction. */
static void
sweep_row (const Sweep *s, int y)
{
  int w = s->maps->w;

  for (int i = 0; i < w; i++)
    refine_position (s, y, s->step > 0 ? i : w - 1 - i);
}

/* Runs a pass over all rows, one row per task; FALSE if cancelled (polled
 * per row: a row of 120 positions is a few milliseconds of work). */
static gboolean
for_each_row (const Maps *m, const Sweep *s, gboolean starting,
              gint64 *idx, float *S, Progress *progress,
              const RefsrExec *exec)
{
  int cancelled = 0;

#pragma omp parallel for num_threads (refsr_exec_threads (exec)) \
  schedule (dynamic, 1)
  for (int y = 0; y < m->h; y++)
    {
      int rows;

      if (refsr_exec_cancelled (exec))
        {
#pragma omp atomic write
          cancelled = 1;
          continue;
        }
      if (starting)
        start_row (m, y, idx, S);
      else
        sweep_row (s, y);
#pragma omp atomic capture
      rows = ++*progress->rows_done;
      refsr_exec_tick (exec, progress->reported,
                       progress->base_macs + rows * progress->row_macs);
    }
  /* the calling thread may have done none of the last rows (or none at
   * all): it reports them here */
  refsr_exec_tick (exec, progress->reported,
                   progress->base_macs
                   + *progress->rows_done * progress->row_macs);
  return !cancelled;
}

/* Radii of the random samples: from max_radius down to 1, evenly spaced
 * in log. */
static void
random_radii (int max_radius, int n, int *radii)
{
  for (int i = 0; i < n; i++)
    {
      double t = n > 1 ? (double) i / (n - 1) : 1.0;

      radii[i] = MAX (1, (int) lround (pow (max_radius, 1.0 - t)));
    }
}

/* The starting positions' S, then the sweeps; the result ends in idx, S
 * (the second buffer is idx2, S2). */
static gboolean
refine (const Maps *m, const Knobs *knobs, gint64 *idx, float *S,
        gint64 *idx2, float *S2, Progress *progress, const RefsrExec *exec)
{
  gint64 *idx_in = idx, *idx_out = idx2;
  float *S_in = S, *S_out = S2;

  int radii[MAX_RANDOM_SAMPLES];

  random_radii (MAX (m->key_h, m->key_w), knobs->random_samples, radii);
  progress->row_macs = m->w * 9.0 * m->c;
  if (!for_each_row (m, NULL, TRUE, idx, S, progress, exec))
    return FALSE;
  progress->base_macs += m->h * progress->row_macs;
  *progress->rows_done = 0;
  progress->row_macs = m->w
                       * sweep_macs_per_position (knobs->random_samples, m->c);
  for (int t = 0; t < knobs->iterations; t++)
    {
      Sweep s = { m, t, 8 >> (t % 4), t % 2 == 0 ? 1 : -1,
                  knobs->random_samples, radii, idx_in, S_in, idx_out,
                  S_out };

      if (!for_each_row (m, &s, FALSE, NULL, NULL, progress, exec))
        return FALSE;
      gint64 *idx_swap = idx_in;
      float *S_swap = S_in;
      idx_in = idx_out;
      S_in = S_out;
      idx_out = idx_swap;
      S_out = S_swap;
    }
  if (idx_in != idx)
    {
      memcpy (idx, idx_in, (gsize) m->h * m->w * sizeof (gint64));
      memcpy (S, S_in, (gsize) m->h * m->w * sizeof (float));
    }
  return TRUE;
}

/* Packs the maps, then refines the starting positions in idx. */
static gboolean
refine_from (const RefsrTensor *query, const RefsrTensor *key,
             const Knobs *knobs, gint64 *idx, float *S,
             const RefsrExec *exec, GError **error)
{
  int c = query->c, n_workers = refsr_exec_threads (exec);
  gsize query_floats = (gsize) (query->h + 2) * (query->w + 2) * c;
  gsize key_floats = (gsize) (key->h + 2) * (key->w + 2) * c;
  gsize n_p = (gsize) query->h * query->w, n_q = (gsize) key->h * key->w;
  gsize query_pixels = (gsize) (query->h + 2) * (query->w + 2);
  gsize key_pixels = (gsize) (key->h + 2) * (key->w + 2);
  float *floats = refsr_try_alloc (query_floats + key_floats + n_p + n_q
                                   + n_p + query_pixels + key_pixels,
                                   sizeof (float), error);
  gint64 *idx2 = floats == NULL ? NULL
                 : refsr_try_alloc (n_p, sizeof (gint64), error);
  int rows_done = 0;
  double reported = 0.0;
  Progress progress = { &rows_done, &reported, 0.0, 0.0 };
  Maps m = { .c = c, .h = query->h, .w = query->w, .key_h = key->h,
             .key_w = key->w };
  gboolean ok = FALSE;

  if (idx2 != NULL)
    {
      float *query_pad = floats, *key_pad = query_pad + query_floats;
      float *query_inv = key_pad + key_floats, *key_inv = query_inv + n_p;
      float *S2 = key_inv + n_q;
      float *query_norm = S2 + n_p, *key_norm = query_norm + query_pixels;

      pack_padded (query, query_pad, n_workers);
      pack_padded (key, key_pad, n_workers);
      /* the key is not read again: a spilled key leaves the resident set */
      refsr_tensor_release_pages (key);
      inverse_patch_norms (query_pad, c, query->h, query->w, query_inv,
                           n_workers);
      inverse_patch_norms (key_pad, c, key->h, key->w, key_inv, n_workers);
      pixel_norms (query_pad, c, query->h, query->w, query_norm, n_workers);
      pixel_norms (key_pad, c, key->h, key->w, key_norm, n_workers);
      m.query_norm = query_norm;
      m.key_norm = key_norm;
      m.query_pad = query_pad;
      m.key_pad = key_pad;
      m.query_inv = query_inv;
      m.key_inv = key_inv;
      ok = refine (&m, knobs, idx, S, idx2, S2, &progress, exec);
      if (!ok)
        g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
                             "The search was cancelled");
    }
  g_free (idx2);
  g_free (floats);
  return ok;
}

gboolean
refsr_search_fast_full (const RefsrTensor *query, const RefsrTensor *key,
                        const RefsrSearchFastParams *params, gint64 *idx,
                        float *S, const RefsrExec *exec, GError **error)
{
  Knobs knobs;

  if (!refsr_search_check_shapes (query, key, error))
    return FALSE;
  knobs_init (&knobs, params, query->h, query->w, key->h, key->w);
  if (knobs.pool_factor == 1)
    return refsr_search (query, key, idx, S, exec, error);
  return coarse_start (query, key, knobs.pool_factor, idx, exec, error)
         && refine_from (query, key, &knobs, idx, S, exec, error);
}

gboolean
refsr_search_fast (const RefsrTensor *query, const RefsrTensor *key,
                   gint64 *idx, float *S, const RefsrExec *exec,
                   GError **error)
{
  return refsr_search_fast_full (query, key, NULL, idx, S, exec, error);
}
