/* search.c — relevance search: for every LR position, the reference
 * position whose 3×3 feature patch has the highest cosine similarity
 * (spec §5.2 steps 1-2, §8.2).
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "refsr-config.h"

#include <math.h>
#include <string.h>

#include "gemm.h"
#include "search.h"
#include "spill.h"

/* F.normalize clamps the norm from below by this. */
#define NORM_EPS 1e-12f

/* ---------------------------------------------------------------------
 * Reference: the definition, written out.
 * ------------------------------------------------------------------- */

/* The 9·C patch vector of t centred at (y, x) in torch's unfold order
 * (channel, then row offset, then column offset), zero outside the map,
 * divided by its L2 norm (clamped at NORM_EPS) as F.normalize does. */
static void
normalised_patch (const RefsrTensor *t, int y, int x, float *v)
{
  int n = 0;
  double sum_sq = 0.0;

  for (int c = 0; c < t->c; c++)
    for (int yy = y - 1; yy <= y + 1; yy++)
      for (int xx = x - 1; xx <= x + 1; xx++)
        {
          gboolean inside = yy >= 0 && yy < t->h && xx >= 0 && xx < t->w;

          v[n] = inside ? t->data[((gsize) c * t->h + yy) * t->w + xx] : 0.0f;
          sum_sq += (double) v[n] * v[n];
          n++;
        }

  float denom = MAX ((float) sqrt (sum_sq), NORM_EPS);
  for (int i = 0; i < n; i++)
    v[i] = v[i] / denom;
}

/* Holds all Q normalised key vectors (Q·9·C floats, g_new: aborts if
 * memory runs out) — it exists for the tests, not for real sizes. */
void
refsr_search_ref (const RefsrTensor *query, const RefsrTensor *key,
                  gint64 *idx, float *S)
{
  g_return_if_fail (query->c == key->c);

  int dim = 9 * query->c;
  gsize n_keys = (gsize) key->h * key->w;
  float *keys = g_new (float, n_keys * dim);
  float *qv = g_new (float, dim);

  for (gsize q = 0; q < n_keys; q++)
    normalised_patch (key, q / key->w, q % key->w, keys + q * dim);

  for (gsize p = 0; p < (gsize) query->h * query->w; p++)
    {
      float best = -INFINITY;
      gint64 best_q = 0;

      normalised_patch (query, p / query->w, p % query->w, qv);
      for (gsize q = 0; q < n_keys; q++)
        {
          const float *kv = keys + q * dim;
          double dot = 0.0;

          for (int i = 0; i < dim; i++)
            dot += (double) qv[i] * kv[i];
          /* Strictly greater: ties keep the smallest q, like torch.max. */
          if ((float) dot > best)
            {
              best = (float) dot;
              best_q = q;
            }
        }
      idx[p] = best_q;
      S[p] = best;
    }

  g_free (qv);
  g_free (keys);
}

/* ---------------------------------------------------------------------
 * Fast search.
 *
 * A 3×3 patch dot product is the sum over the 9 offsets (a, b) of the
 * C-channel dot products of the pixel pairs (y+a, x+b)·(qy+a, qx+b).  So
 * for an LR tile (plus a 1-pixel halo) and one reference row we compute the
 * pixel-pair products G with one C-deep GEMM, sum them over the three
 * column offsets in place, keep three consecutive reference rows, and add
 * the three patch rows to get the patch dot product of every (p, q) pair:
 * 9× fewer multiply-adds than 9·C-deep patch products.  Zero padding comes
 * for free: the packed LR tile and the padded pixel-major copy of the key
 * hold zeros outside the maps, so an offset that leaves either map
 * contributes 0.  Dividing by the two patch norms gives the cosine; a
 * running max/arg-max per LR position replaces the P×Q relevance matrix.
 *
 * Work is split into units of one LR tile against one strip of reference
 * columns; a unit's arg-max is merged into the map's under a total order
 * (larger value, then smaller q).  The split depends on the sizes only,
 * never on the thread count, each (p, q) value is computed by exactly one
 * unit, and the merge does not depend on the order units finish in, so
 * results are bit-identical for any number of threads.
 *
 * Scratch (floats), for a C-channel query h×w and key Hr×Wr, T workers:
 *   key_pad    (Hr+2)·(Wr+2)·C   pixel-major key with a zero border
 *   norms      Hr·Wr + h·w       inverse patch norms
 *   per worker C·M               packed LR tile, M = (th+2)·(tw+2)
 *              3·(sw+2)·M        products of three reference rows
 *              2·th·tw           running max and arg-max
 * with LR tiles th×tw ≤ TILE_SIDE² and reference strips sw ≤ STRIP_WIDTH
 * wide; T is at most the number of units.  So memory is O(P + Q) for a
 * given thread count (34.5 MB for P = Q = 14400, C = 256, two threads,
 * against 0.77 GB for the official relevance matrix alone).  The halo
 * costs (th+2)(tw+2)/(th·tw) · (sw+2)/sw more multiply-adds, 8.6% there.
 *
 * The float rounding differs from "normalise, then 9·C-deep dot" by a few
 * ulps of S; near-tied arg-maxes can therefore differ from the reference
 * (spec §10).
 * ------------------------------------------------------------------- */

/* The arg-max update is the only hot loop outside the GEMM: it is
 * marked WIDEST_VECTORS (search.h). */
#define TILE_SIDE   62   /* LR tile interior, 64×64 with the halo */
#define STRIP_WIDTH 126  /* reference strip interior, 128 with the halo */

typedef struct
{
  int c;
  int h, w;           /* query map */
  int key_h, key_w;   /* key map */
  int tile_h, tile_w; /* LR tile interior */
  int tiles_y, tiles_x;
  int strip_w;        /* reference strip interior */
  int strips;
  int n_workers;
} SearchPlan;

/* Work units: every LR tile against every reference strip. */
static int
plan_units (const SearchPlan *plan)
{
  return plan->tiles_y * plan->tiles_x * plan->strips;
}

/* Splits n into the fewest parts of at most target, all of equal size
 * except a shorter last one; returns the part size. */
static int
split_evenly (int n, int target, int *parts)
{
  *parts = (n + target - 1) / target;
  return (n + *parts - 1) / *parts;
}

static void
search_plan_init (SearchPlan *plan, int c, int h, int w, int key_h,
                  int key_w, int n_threads)
{
  plan->c = c;
  plan->h = h;
  plan->w = w;
  plan->key_h = key_h;
  plan->key_w = key_w;
  plan->tile_h = split_evenly (h, TILE_SIDE, &plan->tiles_y);
  plan->tile_w = split_evenly (w, TILE_SIDE, &plan->tiles_x);
  plan->strip_w = split_evenly (key_w, STRIP_WIDTH, &plan->strips);
#ifdef _OPENMP
  plan->n_workers = CLAMP (n_threads, 1, plan_units (plan));
#else
  plan->n_workers = 1;
#endif
}

/* Pixels of a packed LR tile with its halo (M). */
static gsize
plan_tile_pixels (const SearchPlan *plan)
{
  return (gsize) (plan->tile_h + 2) * (plan->tile_w + 2);
}

static gsize
plan_shared_floats (const SearchPlan *plan)
{
  return (gsize) (plan->key_h + 2) * (plan->key_w + 2) * plan->c
         + (gsize) plan->key_h * plan->key_w + (gsize) plan->h * plan->w;
}

static gsize
plan_worker_floats (const SearchPlan *plan)
{
  gsize m = plan_tile_pixels (plan);

  return (gsize) plan->c * m + 3 * (gsize) (plan->strip_w + 2) * m
         + 2 * (gsize) plan->tile_h * plan->tile_w;
}

gsize
refsr_search_scratch_bytes (int c, int h, int w, int key_h, int key_w,
                            int n_threads)
{
  SearchPlan plan;

  search_plan_init (&plan, c, h, w, key_h, key_w, n_threads);
  return sizeof (float) * plan_shared_floats (&plan)
         + refsr_scratch_bytes (plan.n_workers, plan_worker_floats (&plan));
}

/* 1 / max(‖patch‖, NORM_EPS) for the zero-padded 3×3 patch around every
 * pixel of t (squares summed in double, so the order does not matter). */
static void
inverse_patch_norms (const RefsrTensor *t, float *inv, int n_workers)
{
  gsize plane = (gsize) t->h * t->w;

#pragma omp parallel for num_threads (n_workers) schedule (static)
  for (int y = 0; y < t->h; y++)
    for (int x = 0; x < t->w; x++)
      {
        double sum_sq = 0.0;

        for (int yy = MAX (y - 1, 0); yy <= MIN (y + 1, t->h - 1); yy++)
          for (int xx = MAX (x - 1, 0); xx <= MIN (x + 1, t->w - 1); xx++)
            {
              const float *v = t->data + (gsize) yy * t->w + xx;

              for (int c = 0; c < t->c; c++)
                sum_sq += (double) v[c * plane] * v[c * plane];
            }
        inv[(gsize) y * t->w + x] = 1.0f / MAX ((float) sqrt (sum_sq),
                                                NORM_EPS);
      }
}

/* Pixel-major copy of key with a one-pixel zero border:
 * key_pad[((y+1)·(Wr+2) + x+1)·C + c] = key[c, y, x]. */
static void
pack_key (const RefsrTensor *key, float *key_pad, int n_workers)
{
  gsize padded_w = key->w + 2;
  gsize row_floats = padded_w * key->c;

  memset (key_pad, 0, row_floats * sizeof (float));
  memset (key_pad + (key->h + 1) * row_floats, 0, row_floats * sizeof (float));

#pragma omp parallel for num_threads (n_workers) schedule (static)
  for (int y = 0; y < key->h; y++)
    {
      float *row = key_pad + (y + 1) * row_floats;

      memset (row, 0, key->c * sizeof (float));
      memset (row + (padded_w - 1) * key->c, 0, key->c * sizeof (float));
      for (int c = 0; c < key->c; c++)
        {
          const float *src = key->data + ((gsize) c * key->h + y) * key->w;

          for (int x = 0; x < key->w; x++)
            row[(x + 1) * (gsize) key->c + c] = src[x];
        }
    }
}

typedef struct
{
  const RefsrTensor *query;
  const float *key_pad;
  const float *key_inv;   /* Hr·Wr */
  const float *query_inv; /* h·w */
  gint64 *idx;
  float *S;
  /* progress: reference rows done by every worker, and what thread 0 has
   * reported of them (refsr_exec_tick) */
  int *rows_done;
  double *reported;
  double row_macs;
} SearchData;

typedef struct
{
  int y0, x0; /* top-left LR position of the interior */
  int h, w;   /* interior size (the last tiles may be smaller) */
} Tile;

typedef struct
{
  float *packed;   /* C × M query values of the tile and its halo */
  float *g[3];     /* (sw+2) × M pixel products, one per reference row */
  float *best;     /* tile_h × tile_w running maximum */
  gint32 *best_q;  /* its arg-max */
} WorkerScratch;

static void
worker_scratch_init (WorkerScratch *ws, const SearchPlan *plan, float *mem)
{
  gsize m = plan_tile_pixels (plan);
  gsize g_floats = (gsize) (plan->strip_w + 2) * m;

  ws->packed = mem;
  mem += (gsize) plan->c * m;
  for (int i = 0; i < 3; i++, mem += g_floats)
    ws->g[i] = mem;
  ws->best = mem;
  ws->best_q = (gint32 *) (mem + (gsize) plan->tile_h * plan->tile_w);
}

/* Copies the tile and its one-pixel halo channel by channel into packed
 * (row stride tile_w + 2), zero where it leaves the query map. */
static void
pack_query_tile (const SearchPlan *plan, const RefsrTensor *query,
                 const Tile *tile, float *packed)
{
  int padded_h = plan->tile_h + 2, padded_w = plan->tile_w + 2;
  gsize m = plan_tile_pixels (plan);

  memset (packed, 0, (gsize) plan->c * m * sizeof (float));
  for (int c = 0; c < plan->c; c++)
    for (int ty = 0; ty < MIN (padded_h, tile->h + 2); ty++)
      {
        int y = tile->y0 - 1 + ty;
        int x_first = MAX (tile->x0 - 1, 0);
        int x_end = MIN (tile->x0 + tile->w + 1, query->w);

        if (y < 0 || y >= query->h)
          continue;
        memcpy (packed + c * m + (gsize) ty * padded_w
                + (x_first - (tile->x0 - 1)),
                query->data + ((gsize) c * query->h + y) * query->w + x_first,
                (x_end - x_first) * sizeof (float));
      }
}

/* Turns one reference row's pixel products g[j][i] (key pixel j of the
 * halo-padded strip row, packed tile pixel i) into their sums over the
 * three column offsets, in place:  g[j][i] ← g[j][i] + g[j+1][i+1] +
 * g[j+2][i+2]  for j < sw.  Row j then holds, for key column x0 + j and the
 * packed pixel i, the contribution of one patch row; each such sum is used
 * by three reference rows, so it is worth forming once. */
WIDEST_VECTORS static void
sum_column_offsets (float *g, int sw, gsize m)
{
  for (int j = 0; j < sw; j++)
    {
      float *restrict sum = g + j * m;
      const float *restrict right = g + (j + 1) * m + 1;
      const float *restrict right2 = g + (j + 2) * m + 2;

      for (gsize i = 0; i + 2 < m; i++)
        sum[i] = sum[i] + right[i] + right2[i];
    }
}

/* Folds one (key q, tile row) pair into the running arg-max: the patch dot
 * product is the sum of the three patch rows' column sums. */
static inline void
update_positions (const float *restrict top, const float *restrict middle,
                  const float *restrict bottom, int n, float inv_k, gint32 q,
                  float *restrict best, gint32 *restrict best_q)
{
  for (int x = 0; x < n; x++)
    {
      float r = (top[x] + middle[x] + bottom[x]) * inv_k;
      float old = best[x];
      gint32 old_q = best_q[x];
      /* Strips are not visited in q order, so ties are broken explicitly
       * towards the smallest q, as torch.max does.  Bitwise operators keep
       * the loop free of branches, so that it vectorises. */
      int better = (r > old) | ((r == old) & (q < old_q));

      best[x] = better ? r : old;
      best_q[x] = better ? q : old_q;
    }
}

/* All keys of reference row qy within the strip [x0, x0 + sw), against all
 * positions of the tile.  rows[a] holds the column sums (see
 * sum_column_offsets) of reference row qy - 1 + a. */
WIDEST_VECTORS static void
update_reference_row (const SearchPlan *plan, const SearchData *d,
                      const Tile *tile, int qy, int x0, int sw,
                      float *const rows[3], WorkerScratch *ws)
{
  gsize m = plan_tile_pixels (plan);
  gsize padded_w = plan->tile_w + 2;

  for (int j = 0; j < sw; j++)
    {
      gint32 q = qy * plan->key_w + x0 + j;
      float inv_k = d->key_inv[q];

      /* LR position (ty, tx) is packed pixel (ty + 1, tx + 1); patch row a
       * of it starts at packed pixel (ty + a, tx). */
      for (int ty = 0; ty < tile->h; ty++)
        update_positions (rows[0] + j * m + ty * padded_w,
                          rows[1] + j * m + (ty + 1) * padded_w,
                          rows[2] + j * m + (ty + 2) * padded_w,
                          tile->w, inv_k, q, ws->best + ty * plan->tile_w,
                          ws->best_q + ty * plan->tile_w);
    }
}

/* The tile against one strip of reference columns [x0, x0 + sw), streaming
 * the reference rows: one GEMM per row, three rows of products kept.
 * Returns FALSE if the run was cancelled (polled once per row). */
static gboolean
search_strip (const SearchPlan *plan, const SearchData *d, const Tile *tile,
              int x0, int sw, WorkerScratch *ws, const RefsrExec *exec)
{
  gsize m = plan_tile_pixels (plan);
  gsize padded_key_w = plan->key_w + 2;

  for (int s = -1; s <= plan->key_h; s++)
    {
      float *g = ws->g[(s + 1) % 3];

      int rows;

      if (refsr_exec_cancelled (exec))
        return FALSE;
      /* a unit can take seconds: progress moves row by row */
#pragma omp atomic capture
      rows = ++*d->rows_done;
      refsr_exec_tick (exec, d->reported, rows * d->row_macs);
      if (s < 0 || s == plan->key_h)
        memset (g, 0, (gsize) (sw + 2) * m * sizeof (float));
      else
        {
          refsr_sgemm_with (refsr_sgemm_fastest (), sw + 2, (int) m, plan->c,
                       d->key_pad + ((s + 1) * padded_key_w + x0) * plan->c,
                       plan->c, ws->packed, (int) m, g, (int) m, FALSE);
          sum_column_offsets (g, sw, m);
        }
      if (s >= 1)
        {
          float *const rows[3] = { ws->g[(s - 1) % 3], ws->g[s % 3],
                                   ws->g[(s + 1) % 3] };

          update_reference_row (plan, d, tile, s - 1, x0, sw, rows, ws);
        }
    }
  return TRUE;
}

/* Folds a work unit's arg-max into the running one of the whole map (kept
 * in d->S and d->idx until the end).  The order used — larger value first,
 * then smaller q — is total, so the outcome does not depend on the order
 * in which the units finish. */
static void
merge_unit_result (const SearchPlan *plan, const SearchData *d,
                   const Tile *tile, const WorkerScratch *ws)
{
  for (int ty = 0; ty < tile->h; ty++)
    for (int tx = 0; tx < tile->w; tx++)
      {
        gsize p = (gsize) (tile->y0 + ty) * plan->w + tile->x0 + tx;
        int i = ty * plan->tile_w + tx;
        float r = ws->best[i];

        if (r > d->S[p] || (r == d->S[p] && ws->best_q[i] < d->idx[p]))
          {
            d->S[p] = r;
            d->idx[p] = ws->best_q[i];
          }
      }
}

/* Work unit u: one LR tile against one reference strip.  Returns FALSE if
 * the run was cancelled. */
static gboolean
search_unit (const SearchPlan *plan, const SearchData *d, int u,
             WorkerScratch *ws, const RefsrExec *exec)
{
  int t = u / plan->strips;
  int x0 = (u % plan->strips) * plan->strip_w;
  Tile tile;

  tile.y0 = (t / plan->tiles_x) * plan->tile_h;
  tile.x0 = (t % plan->tiles_x) * plan->tile_w;
  tile.h = MIN (plan->tile_h, plan->h - tile.y0);
  tile.w = MIN (plan->tile_w, plan->w - tile.x0);

  pack_query_tile (plan, d->query, &tile, ws->packed);
  for (int i = 0; i < plan->tile_h * plan->tile_w; i++)
    {
      ws->best[i] = -INFINITY;
      ws->best_q[i] = 0;
    }
  if (!search_strip (plan, d, &tile, x0, MIN (plan->strip_w, plan->key_w - x0),
                     ws, exec))
    return FALSE;

#pragma omp critical (refsr_search_merge)
  merge_unit_result (plan, d, &tile, ws);
  return TRUE;
}

/* Runs all work units on the plan's workers; FALSE if cancelled.  Leaves
 * the uncalibrated maximum (not yet divided by the query norm) in d->S. */
static gboolean
search_units (const SearchPlan *plan, const SearchData *d,
              const RefsrScratch *worker_mem, const RefsrExec *exec)
{
  int cancelled = 0;

  for (gsize p = 0; p < (gsize) plan->h * plan->w; p++)
    {
      d->S[p] = -INFINITY;
      d->idx[p] = 0;
    }

#pragma omp parallel num_threads (plan->n_workers)
  {
    WorkerScratch ws;

    worker_scratch_init (&ws, plan, refsr_scratch_mine (worker_mem));
#pragma omp for schedule (dynamic, 1)
    for (int u = 0; u < plan_units (plan); u++)
      if (!search_unit (plan, d, u, &ws, exec))
        {
#pragma omp atomic write
          cancelled = 1;
        }
  }
  return !cancelled;
}

gboolean
refsr_search_check_shapes (const RefsrTensor *query, const RefsrTensor *key,
                           GError **error)
{
  if (query->c < 1 || query->h < 1 || query->w < 1 || key->h < 1
      || key->w < 1 || query->c != key->c)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "Cannot search %d×%d×%d features against %d×%d×%d "
                   "reference features: sizes must be positive and the "
                   "channel counts equal",
                   query->c, query->h, query->w, key->c, key->h, key->w);
      return FALSE;
    }
  if ((gint64) key->h * key->w > G_MAXINT32)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The reference image is too large to search "
                   "(%d×%d feature positions); use a smaller reference",
                   key->h, key->w);
      return FALSE;
    }
  return TRUE;
}

gboolean
refsr_search (const RefsrTensor *query, const RefsrTensor *key,
              gint64 *idx, float *S, const RefsrExec *exec, GError **error)
{
  SearchPlan plan;
  SearchData d;
  int rows_done = 0;
  double reported = 0.0;
  RefsrScratch worker_mem;
  float *shared, *key_inv, *query_inv;
  gboolean finished;

  if (!refsr_search_check_shapes (query, key, error))
    return FALSE;
  search_plan_init (&plan, query->c, query->h, query->w, key->h, key->w,
                    refsr_exec_threads (exec));

  shared = refsr_try_alloc (plan_shared_floats (&plan), sizeof (float), error);
  if (shared == NULL)
    return FALSE;
  if (!refsr_scratch_alloc (&worker_mem, plan.n_workers,
                            plan_worker_floats (&plan), error))
    {
      g_free (shared);
      return FALSE;
    }

  key_inv = shared + (gsize) (key->h + 2) * (key->w + 2) * key->c;
  query_inv = key_inv + (gsize) key->h * key->w;
  pack_key (key, shared, plan.n_workers);
  inverse_patch_norms (key, key_inv, plan.n_workers);
  /* the keys are not read again: a spilled key leaves the resident set */
  refsr_tensor_release_pages (key);
  inverse_patch_norms (query, query_inv, plan.n_workers);
  d.query = query;
  d.key_pad = shared;
  d.key_inv = key_inv;
  d.query_inv = query_inv;
  d.idx = idx;
  d.S = S;
  d.rows_done = &rows_done;
  d.reported = &reported;
  /* one key row (with the halo rows, key_h + 2 per unit) against a
   * tile's pixels and a strip's columns */
  d.row_macs = (plan.c + 9.0) * plan.tile_h * plan.tile_w * plan.strip_w
               * plan.key_h / (plan.key_h + 2.0);

  finished = search_units (&plan, &d, &worker_mem, exec);
  for (gsize p = 0; finished && p < (gsize) query->h * query->w; p++)
    S[p] = S[p] * query_inv[p];
  refsr_scratch_clear (&worker_mem);
  g_free (shared);
  if (!finished)
    g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
                         "The search was cancelled");
  return finished;
}
