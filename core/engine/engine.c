/* engine.c — refsr_run: the reference prepared once, then the LR image in
 * tiles: a search pass (indices and S for every LR position, exact) and a
 * reconstruction pass (transfer and main network, with context); progress
 * and cancellation around them.  The whole image is the case of one tile.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-internal.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "mainnet.h"
#include "plan.h"
#include "pixels.h"
#include "pool.h"
#include "resample.h"
#include "search.h"
#include "search-fast.h"
#include "tiling.h"
#include "transfer.h"

/* What the caller is told of a run's progress: the share of its work
 * done, never going back (the ops' own counts and the plan's differ a
 * little), under the stage of the op under way. */
typedef struct
{
  const RefsrOptions *options;
  double total, done;       /* multiply-accumulates: all, of finished ops */
  double partial;           /* of the op under way, from its ticks */
  const char *stage;
  double shown;             /* the fraction last reported */
  gint64 tick_us;           /* when a tick last reported */
} Progress;

static void
progress_show (Progress *p, double macs)
{
  double f = MIN (macs / p->total, 1.0);

  if (p->options->progress == NULL || f < p->shown)
    return;
  p->shown = f;
  p->options->progress (f, p->stage, p->options->progress_data);
}

/* An op under way (refsr_exec_tick): progress moves within long layers
 * and searches too, at most ten times a second.  What the ticks add up
 * to counts until the op's end is reported (progress_done). */
static void
progress_tick (double macs, void *data)
{
  Progress *p = data;
  gint64 now = g_get_monotonic_time ();

  p->partial += macs;
  if (now - p->tick_us < G_USEC_PER_SEC / 10)
    return;
  p->tick_us = now;
  progress_show (p, p->done + p->partial);
}

/* An op has ended: p->done counts it now, in place of its ticks. */
static void
progress_done (Progress *p)
{
  p->partial = 0.0;
  progress_show (p, p->done);
}

/* Everything a run owns, so one function can free it on any exit path. */
typedef struct
{
  const RefsrModel *model;
  const RefsrOptions *options;
  const gint64 *forced_idx; /* oracle mode (refsr-internal.h), or NULL */
  RefsrExec exec;
  const RefsrImage *lr;
  int h, w;                 /* LR size */
  RefsrReference *reference;
  gboolean owns_reference;  /* refsr_run's own: freed as soon as unused */
  RefsrTileFunc sink;       /* where finished tiles go */
  void *sink_data;
  RefsrTileMargins margins;
  RefsrRunPlan plan;
  RefsrRect *tiles;
  int n_tiles;
  gint64 *idx;              /* h·w hard-attention indices */
  RefsrTensor S;            /* 1×h×w */
  RefsrTensor sr;           /* 3×4h×4w, and pixels, without tile_done */
  guint8 *pixels;
  RefsrTensor t3, t2, t1;   /* whole maps, only with keep_textures */
  int ref_lv3_width, ref_lv3_height; /* the first member's grid */
  Progress progress;
  double macs_stage_start;
} Run;

/* A prepared pool of references: their features, and the model that
 * made them. */
struct RefsrReference
{
  const RefsrModel *model;
  RefsrPool pool;
};

static void
report (Run *run, const char *stage)
{
  run->progress.stage = stage;
  progress_done (&run->progress);
}

static void
mainnet_layer_done (double macs, void *data)
{
  Run *run = data;
  run->progress.done = run->macs_stage_start + macs;
  report (run, "reconstruction");
}

static void
reference_strip_done (double macs, void *data)
{
  Run *run = data;
  run->progress.done += macs;
  report (run, "features");
}

static gboolean
check_image (const RefsrImage *img, const char *what, int min_size,
             gint64 max_pixels, GError **error)
{
  if (img == NULL || img->pixels == NULL || img->width < min_size
      || img->height < min_size
      || (gint64) img->rowstride < (gint64) img->width * 3)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The %s image must be at least %d×%d pixels "
                   "(it is %d×%d)", what, min_size, min_size,
                   img ? img->width : 0, img ? img->height : 0);
      return FALSE;
    }
  if ((gint64) img->width * img->height > max_pixels)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The %s image is too large: %d×%d pixels, at most %.1f "
                   "megapixels are supported", what, img->width, img->height,
                   (double) max_pixels / 1e6);
      return FALSE;
    }
  return TRUE;
}

/* spill: the features go to unlinked temporary files (plan.c decides
 * when), the operating system paging them in as they are read. */
static RefsrReference *
reference_build (const RefsrModel *model, const RefsrImage *refs, int n_refs,
                 const RefsrOptions *options, int strip_rows, gboolean spill,
                 RefsrStripDone strip_done, void *strip_data,
                 const RefsrExec *exec, GError **error)
{
  RefsrReference *reference = g_new0 (RefsrReference, 1);

  reference->model = model;
  if (!refsr_pool_build (&reference->pool, &model->lte, refs, n_refs,
                         options, strip_rows, spill, strip_done, strip_data,
                         exec, error))
    g_clear_pointer (&reference, g_free);
  return reference;
}

/* Keeps every tile in the result, for callers without tile_done. */
static gboolean
keep_whole_output (const RefsrTile *tile, void *data, GError **error)
{
  Run *run = data;
  RefsrTensor t = { 3, tile->height, tile->width, (float *) tile->sr, 0 };

  refsr_tensor_copy_rect (&t, 0, 0, &run->sr, tile->x, tile->y, tile->width,
                          tile->height);
  refsr_tile_copy_pixels (tile, run->pixels, (gsize) run->sr.w * 3);
  return TRUE;
}

void
refsr_tile_copy_pixels (const RefsrTile *tile, guint8 *image,
                        gsize rowstride)
{
  for (int y = 0; y < tile->height; y++)
    memcpy (image + (gsize) (tile->y + y) * rowstride + (gsize) tile->x * 3,
            tile->pixels + (gsize) y * tile->width * 3,
            (gsize) tile->width * 3);
}

static gboolean
prepare (Run *run, GError **error)
{
  int h = run->h, w = run->w;

  run->idx = refsr_try_alloc ((gsize) h * w, sizeof (gint64), error);
  if (run->sink == keep_whole_output
      && (!refsr_tensor_alloc (&run->sr, 3, 4 * h, 4 * w, error)
          || (run->pixels = refsr_try_alloc ((gsize) 16 * h * w, 3, error))
             == NULL))
    return FALSE;
  return run->idx != NULL
         && refsr_tensor_alloc (&run->S, 1, h, w, error)
         && (!run->options->keep_textures
             || (refsr_tensor_alloc (&run->t3, 256, h, w, error)
                 && refsr_tensor_alloc (&run->t2, 128, 2 * h, 2 * w, error)
                 && refsr_tensor_alloc (&run->t1, 64, 4 * h, 4 * w, error)));
}

/* Rows of the rectangle tile of a map the size of region (both in the
 * same LR coordinates), from src (region-sized) into dst (whole). */
static void
copy_interior (const RefsrTensor *src, const RefsrRect *region,
               const RefsrRect *tile, int scale, RefsrTensor *dst)
{
  refsr_tensor_copy_rect (src, scale * (tile->x0 - region->x0),
                          scale * (tile->y0 - region->y0), dst,
                          scale * tile->x0, scale * tile->y0,
                          scale * refsr_rect_width (tile),
                          scale * refsr_rect_height (tile));
}

/* LR↑ over the region r of the LR image (Pillow's bicubic, as the whole
 * LR↑ has it there) as the network's input. */
static gboolean
upscaled_region (Run *run, const RefsrRect *r, RefsrTensor *x, GError **error)
{
  RefsrRect up = { 4 * r->x0, 4 * r->y0, 4 * r->x1, 4 * r->y1 };
  int uw = refsr_rect_width (&up), uh = refsr_rect_height (&up);
  guint8 *rgb = refsr_try_alloc ((gsize) uw * uh, 3, error);
  gboolean ok = rgb != NULL
                && refsr_pil_resize_window (run->lr->pixels, run->w, run->h,
                                            run->lr->rowstride, 3, 4 * run->w,
                                            4 * run->h, &up, rgb, uw * 3,
                                            error)
                && refsr_pixels_to_tensor (rgb, uw, uh, uw * 3, x, error);

  g_free (rgb);
  return ok;
}

/* Folds one member's indices and S into the pool's: a larger S wins,
 * a tie keeps the earlier member's (so one member is its own search). */
static void
merge_member (const gint64 *member_idx, const float *member_S, gint64 base,
              gsize n, gint64 *idx, float *S, gboolean first)
{
  for (gsize p = 0; p < n; p++)
    if (first || member_S[p] > S[p])
      {
        S[p] = member_S[p];
        idx[p] = base + member_idx[p];
      }
}

/* The region's query features against every member of the pool. */
static gboolean
search_pool (Run *run, const RefsrTensor *query, gint64 *idx, float *S,
             GError **error)
{
  const RefsrPool *pool = &run->reference->pool;
  gsize n = (gsize) query->h * query->w;
  gint64 *member_idx = refsr_try_alloc (n, sizeof (gint64), error);
  float *member_S = member_idx != NULL
                    ? refsr_try_alloc (n, sizeof (float), error) : NULL;
  gboolean ok = member_S != NULL;

  for (int m = 0; ok && m < pool->n; m++)
    {
      const RefsrReferenceData *data = &pool->members[m];

      ok = run->plan.search_fast
           ? refsr_search_fast (query, &data->key, member_idx, member_S,
                                &run->exec, error)
           : refsr_search (query, &data->key, member_idx, member_S,
                           &run->exec, error);
      if (ok)
        merge_member (member_idx, member_S, pool->bases[m], n, idx, S,
                      m == 0);
      refsr_reference_data_release_pages (&pool->members[m]);
    }
  g_free (member_idx);
  g_free (member_S);
  return ok;
}

/* Multiply-accumulates of one region's search against the pool. */
static double
search_pool_macs (const Run *run, int rh, int rw)
{
  const RefsrPool *pool = &run->reference->pool;
  double macs = 0.0;

  for (int m = 0; m < pool->n; m++)
    {
      const RefsrReferenceData *data = &pool->members[m];

      macs += run->plan.search_fast
              ? refsr_search_fast_macs (rh, rw, data->height / 4,
                                        data->width / 4)
              : refsr_search_macs (rh, rw, data->height, data->width);
    }
  return macs;
}

/* Indices and S of the tile's positions: the LTE of LR↑ over the tile and
 * its search margin, searched against the whole pool. */
static gboolean
search_tile (Run *run, const RefsrRect *tile, GError **error)
{
  RefsrRect r = refsr_rect_grow (tile, run->margins.search, run->w, run->h);
  int rw = refsr_rect_width (&r), rh = refsr_rect_height (&r);
  RefsrTensor x = { 0 }, S = { 0 };
  RefsrLteFeatures q = { 0 };
  gint64 *idx = refsr_try_alloc ((gsize) rw * rh, sizeof (gint64), error);
  gboolean ok;

  run->progress.stage = "features";
  ok = idx != NULL
       && refsr_tensor_alloc (&S, 1, rh, rw, error)
       && upscaled_region (run, &r, &x, error)
       && refsr_lte_forward (&run->model->lte, &x, 4u, &q, &run->exec,
                             error);
  if (ok)
    {
      /* the LR's features are reported apart, so that the stages' times
       * mean the same with and without tiles */
      run->progress.done += refsr_lte_macs (4 * rh, 4 * rw);
      report (run, "features");
      run->progress.stage = "search";
    }
  refsr_tensor_clear (&x);
  ok = ok && search_pool (run, &q.lv3, idx, S.data, error);
  if (ok)
    {
      for (int y = tile->y0; y < tile->y1; y++)
        memcpy (run->idx + (gsize) y * run->w + tile->x0,
                idx + (gsize) (y - r.y0) * rw + (tile->x0 - r.x0),
                (gsize) refsr_rect_width (tile) * sizeof (gint64));
      copy_interior (&S, &r, tile, 1, &run->S);
      run->progress.done += search_pool_macs (run, rh, rw);
      report (run, "search");
    }
  g_free (idx);
  refsr_tensor_clear (&S);
  refsr_lte_features_clear (&q);
  return ok && refsr_exec_check (&run->exec, error);
}

static gboolean
apply_forced_indices (Run *run, GError **error)
{
  const gint64 *forced = run->forced_idx;
  gsize n = (gsize) run->h * run->w;
  const RefsrPool *pool = &run->reference->pool;
  gsize q = (gsize) pool->bases[pool->n];

  for (gsize p = 0; p < n; p++)
    if (forced[p] < 0 || (gsize) forced[p] >= q)
      {
        g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                     "Forced index %" G_GINT64_FORMAT " at position %"
                     G_GSIZE_FORMAT " is outside the references",
                     forced[p], p);
        return FALSE;
      }
  memcpy (run->idx, forced, n * sizeof (gint64));
  return TRUE;
}

/* Everything the transfer and the main network take for one region. */
typedef struct
{
  RefsrTensor lr, S, t3, t2, t1, sr;
  gint64 *idx;
} RegionMaps;

static void
region_maps_clear (RegionMaps *m)
{
  RefsrTensor *tensors[] = { &m->lr, &m->S, &m->t3, &m->t2, &m->t1, &m->sr };

  for (gsize i = 0; i < G_N_ELEMENTS (tensors); i++)
    refsr_tensor_clear (tensors[i]);
  g_free (m->idx);
}

static gboolean
region_inputs (Run *run, const RefsrRect *r, RegionMaps *m, GError **error)
{
  int rw = refsr_rect_width (r), rh = refsr_rect_height (r);
  const RefsrImage *lr = run->lr;

  if ((m->idx = refsr_try_alloc ((gsize) rw * rh, sizeof (gint64), error))
      == NULL
      || !refsr_tensor_alloc (&m->S, 1, rh, rw, error)
      || !refsr_pixels_to_tensor (lr->pixels + (gsize) r->y0 * lr->rowstride
                                  + (gsize) r->x0 * 3,
                                  rw, rh, lr->rowstride, &m->lr, error))
    return FALSE;
  for (int y = r->y0; y < r->y1; y++)
    memcpy (m->idx + (gsize) (y - r->y0) * rw,
            run->idx + (gsize) y * run->w + r->x0, (gsize) rw * sizeof (gint64));
  refsr_tensor_copy_rect (&run->S, r->x0, r->y0, &m->S, 0, 0, rw, rh);
  return refsr_tensor_alloc (&m->t3, 256, rh, rw, error)
         && refsr_tensor_alloc (&m->t2, 128, 2 * rh, 2 * rw, error)
         && refsr_tensor_alloc (&m->t1, 64, 4 * rh, 4 * rw, error);
}

static void
region_transfer (Run *run, const RefsrRect *r, RegionMaps *m)
{
  int rw = refsr_rect_width (r), rh = refsr_rect_height (r);
  const RefsrPool *pool = &run->reference->pool;
  const RefsrTensor **values = g_new (const RefsrTensor *, 3 * pool->n);
  RefsrTensor *outs[] = { &m->t3, &m->t2, &m->t1 };

  run->progress.stage = "transfer";
  for (int i = 0; i < pool->n; i++)
    {
      values[i] = &pool->members[i].value.lv3;
      values[pool->n + i] = &pool->members[i].value.lv2;
      values[2 * pool->n + i] = &pool->members[i].value.lv1;
    }
  for (int level = 0; level < 3; level++)
    {
      RefsrTransferPool from = { values + level * pool->n, pool->bases,
                                 pool->n };

      refsr_transfer_pool (&from, 1 << level, m->idx, rh, rw, outs[level],
                           &run->exec);
    }
  g_free (values);
  run->progress.done += refsr_transfer_macs (rh, rw);
  report (run, "transfer");
}

/* The tile's part of the region's output, in both forms, to the sink. */
static gboolean
deliver_tile (Run *run, const RefsrTensor *sr, const RefsrRect *region,
              const RefsrRect *tile, GError **error)
{
  int tw = 4 * refsr_rect_width (tile), th = 4 * refsr_rect_height (tile);
  RefsrTensor out = { 0 };
  guint8 *rgb = refsr_try_alloc ((gsize) tw * th, 3, error);
  gboolean ok = rgb != NULL && refsr_tensor_alloc (&out, 3, th, tw, error);

  if (ok)
    {
      RefsrTile t = { 4 * tile->x0, 4 * tile->y0, tw, th, rgb, out.data };

      refsr_tensor_copy_rect (sr, 4 * (tile->x0 - region->x0),
                              4 * (tile->y0 - region->y0), &out, 0, 0, tw,
                              th);
      refsr_tensor_to_pixels (&out, rgb);
      ok = run->sink (&t, run->sink_data, error);
      if (!ok && error != NULL && *error == NULL)
        g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                     "The output tile at %d, %d could not be stored",
                     t.x, t.y);
    }
  g_free (rgb);
  refsr_tensor_clear (&out);
  return ok;
}

/* The enlarged tile: transfer and main network over the tile and its
 * reconstruction margin; only the tile's part is kept. */
static gboolean
reconstruct_tile (Run *run, const RefsrRect *tile, gboolean last,
                  GError **error)
{
  RefsrRect r = refsr_rect_grow (tile, run->margins.reconstruct, run->w,
                                 run->h);
  RegionMaps m = { 0 };
  gboolean ok = region_inputs (run, &r, &m, error);

  if (ok)
    region_transfer (run, &r, &m);
  refsr_pool_release_pages (&run->reference->pool);
  /* The last tile's main network runs without the reference's features,
   * so a whole-image run peaks no higher than the main network itself. */
  if (last && run->owns_reference)
    refsr_pool_clear (&run->reference->pool);
  ok = ok && refsr_exec_check (&run->exec, error);
  run->macs_stage_start = run->progress.done;
  run->progress.stage = "reconstruction";
  ok = ok && refsr_tensor_alloc (&m.sr, 3, 4 * refsr_rect_height (&r),
                                 4 * refsr_rect_width (&r), error)
       && refsr_mainnet_forward (run->model, &m.lr, &m.S, &m.t3, &m.t2,
                                 &m.t1, &m.sr, mainnet_layer_done, run,
                                 &run->exec, error)
       && deliver_tile (run, &m.sr, &r, tile, error);
  if (ok && run->options->keep_textures)
    {
      copy_interior (&m.t3, &r, tile, 1, &run->t3);
      copy_interior (&m.t2, &r, tile, 2, &run->t2);
      copy_interior (&m.t1, &r, tile, 4, &run->t1);
    }
  region_maps_clear (&m);
  return ok && refsr_exec_check (&run->exec, error);
}

static gboolean
run_tiles (Run *run, GError **error)
{
  gboolean ok = TRUE;

  for (int i = 0; ok && i < run->n_tiles; i++)
    ok = search_tile (run, &run->tiles[i], error);
  ok = ok && (run->forced_idx == NULL || apply_forced_indices (run, error));
  for (int i = 0; ok && i < run->n_tiles; i++)
    ok = reconstruct_tile (run, &run->tiles[i], i == run->n_tiles - 1,
                           error);
  return ok;
}

static void
run_clear (Run *run)
{
  RefsrTensor *tensors[] = { &run->S, &run->sr, &run->t3, &run->t2,
                             &run->t1 };

  for (gsize i = 0; i < G_N_ELEMENTS (tensors); i++)
    refsr_tensor_clear (tensors[i]);
  if (run->owns_reference)
    refsr_reference_free (run->reference);
  g_free (run->pixels);
  g_free (run->idx);
  g_free (run->tiles);
}

static gsize
steal_floats (RefsrTensor *t, float **out)
{
  gsize n = refsr_tensor_numel (t);
  *out = t->data;
  t->data = NULL;
  return n;
}

static RefsrResult *
make_result (Run *run)
{
  RefsrResult *result = g_new0 (RefsrResult, 1);

  result->width = 4 * run->w;
  result->height = 4 * run->h;
  result->pixels = g_steal_pointer (&run->pixels);
  result->lr_width = run->w;
  result->lr_height = run->h;
  result->ref_lv3_width = run->ref_lv3_width;
  result->ref_lv3_height = run->ref_lv3_height;
  steal_floats (&run->sr, &result->sr);
  steal_floats (&run->S, &result->S);
  if (run->options->keep_textures)
    {
      result->idx = g_steal_pointer (&run->idx);
      steal_floats (&run->t3, &result->t_lv3);
      steal_floats (&run->t2, &result->t_lv2);
      steal_floats (&run->t1, &result->t_lv1);
    }
  return result;
}

/* More threads than processors never speeds these compute-bound loops up
 * but multiplies the per-thread scratch, and an absurd count makes the
 * OpenMP runtime end the process. */
static int
thread_count (const RefsrOptions *options)
{
  int limit = (int) MAX (g_get_num_processors (), 1);
  int n = 1;

#ifdef _OPENMP
  limit = MIN (limit, omp_get_thread_limit ());
  n = options->n_threads > 0 ? options->n_threads : omp_get_max_threads ();
#endif
  return CLAMP (n, 1, limit);
}

/* Everything of a run but the reference's features: the options, the
 * LR image and the plan for a pool of members of these sizes. */
static gboolean
run_init (Run *run, const RefsrModel *model, const RefsrImage *lr,
          const RefsrSize *members, int n_members, int spilled,
          const RefsrOptions *options, GError **error)
{
  static const RefsrOptions defaults = REFSR_OPTIONS_INIT;

  run->model = model;
  run->options = options != NULL ? options : &defaults;
  run->exec.n_threads = thread_count (run->options);
  run->exec.cancel = run->options->cancel;
  run->progress.options = run->options;
  run->exec.tick = progress_tick;
  run->exec.tick_data = &run->progress;
  run->progress.stage = "features";
  run->sink = run->options->tile_done;
  run->sink_data = run->options->tile_data;
  if (run->sink == NULL)
    {
      run->sink = keep_whole_output;
      run->sink_data = run;
    }
  if (!check_image (lr, "low-resolution", 1, REFSR_MAX_LR_PIXELS, error))
    return FALSE;
  if (run->options->keep_textures
      && (gint64) lr->width * lr->height
             > (gint64) REFSR_MAX_TILE_SIZE * REFSR_MAX_TILE_SIZE)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "Keeping the textures of a %d×%d image needs more than "
                   "int-indexed maps hold: at most %d×%d LR pixels",
                   lr->width, lr->height, REFSR_MAX_TILE_SIZE,
                   REFSR_MAX_TILE_SIZE);
      return FALSE;
    }
  run->lr = lr;
  run->h = lr->height;
  run->w = lr->width;
  if (!refsr_run_plan (&model->config, run->w, run->h, members, n_members,
                       run->exec.n_threads, run->options, spilled,
                       &run->plan, error))
    return FALSE;
  run->ref_lv3_width = members[0].width / 4;
  run->ref_lv3_height = members[0].height / 4;
  refsr_tile_margins (&run->margins);
  run->tiles = refsr_tiles (run->w, run->h, run->plan.tile_size,
                            &run->n_tiles);
  run->progress.total = run->plan.macs;
  return TRUE;
}

/* The tiles, the result, and the end of the progress. */
static RefsrResult *
run_finish (Run *run, GError **error)
{
  RefsrResult *result = NULL;

  if (prepare (run, error) && run_tiles (run, error))
    result = make_result (run);
  run_clear (run);
  if (result != NULL && run->options->progress != NULL)
    run->options->progress (1.0, "reconstruction",
                            run->options->progress_data);
  return result;
}

/* The sizes of the pool's members for these references and options
 * (each one checked); g_free them. */
static int
pool_sizes (const RefsrImage *refs, int n_refs, const RefsrOptions *options,
            RefsrSize **members, GError **error)
{
  g_autofree RefsrSize *sizes = g_new (RefsrSize, MAX (n_refs, 1));

  if (n_refs < 1)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "No reference image was given");
      return 0;
    }
  for (int r = 0; r < n_refs; r++)
    {
      if (!check_image (&refs[r], "reference", 4, REFSR_MAX_REF_PIXELS,
                        error))
        return 0;
      sizes[r] = (RefsrSize) { refs[r].width, refs[r].height };
    }
  return refsr_pool_member_sizes (sizes, n_refs, options, members, NULL,
                                  error);
}

static const RefsrOptions *
options_or_defaults (const RefsrOptions *options)
{
  static const RefsrOptions defaults = REFSR_OPTIONS_INIT;

  return options != NULL ? options : &defaults;
}

static RefsrResult *
run_pool_with_indices (const RefsrModel *model, const RefsrImage *lr,
                       const RefsrImage *refs, int n_refs,
                       const RefsrOptions *options, const gint64 *forced_idx,
                       GError **error)
{
  Run run = { 0 };
  g_autofree RefsrSize *members = NULL;
  int n_members;

  g_return_val_if_fail (model != NULL, NULL);
  options = options_or_defaults (options);
  run.forced_idx = forced_idx;
  n_members = pool_sizes (refs, n_refs, options, &members, error);
  if (n_members == 0
      || !run_init (&run, model, lr, members, n_members, -1, options,
                    error))
    {
      run_clear (&run);
      return NULL;
    }
  report (&run, "features");
  run.owns_reference = TRUE;
  if (!refsr_exec_check (&run.exec, error)
      || (run.reference = reference_build (model, refs, n_refs, options,
                                           run.plan.strip_rows,
                                           run.plan.spill_reference,
                                           reference_strip_done, &run,
                                           &run.exec, error)) == NULL)
    {
      run_clear (&run);
      return NULL;
    }
  return run_finish (&run, error);
}

RefsrResult *
refsr_run_with_indices (const RefsrModel *model, const RefsrImage *lr,
                        const RefsrImage *ref, const RefsrOptions *options,
                        const gint64 *forced_idx, GError **error)
{
  return run_pool_with_indices (model, lr, ref, 1, options, forced_idx,
                                error);
}

RefsrResult *
refsr_run (const RefsrModel *model, const RefsrImage *lr,
           const RefsrImage *ref, const RefsrOptions *options, GError **error)
{
  return run_pool_with_indices (model, lr, ref, 1, options, NULL, error);
}

RefsrResult *
refsr_run_pool (const RefsrModel *model, const RefsrImage *lr,
                const RefsrImage *refs, int n_refs,
                const RefsrOptions *options, GError **error)
{
  return run_pool_with_indices (model, lr, refs, n_refs, options, NULL,
                                error);
}

/* The built members' sizes, as a plan takes them; g_free them. */
static RefsrSize *
built_sizes (const RefsrPool *pool)
{
  RefsrSize *sizes = g_new (RefsrSize, pool->n);

  for (int m = 0; m < pool->n; m++)
    sizes[m] = (RefsrSize) { pool->members[m].width,
                             pool->members[m].height };
  return sizes;
}

RefsrResult *
refsr_run_with_reference (const RefsrModel *model, const RefsrImage *lr,
                          RefsrReference *reference,
                          const RefsrOptions *options, GError **error)
{
  Run run = { 0 };
  g_autofree RefsrSize *members = NULL;

  g_return_val_if_fail (model != NULL && reference != NULL, NULL);
  if (reference->model != model)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "The reference was prepared with another model");
      return NULL;
    }
  members = built_sizes (&reference->pool);
  if (!run_init (&run, model, lr, members, reference->pool.n,
                 reference->pool.spilled, options, error))
    {
      run_clear (&run);
      return NULL;
    }
  run.reference = reference;
  /* the reference's features are made already */
  for (int m = 0; m < reference->pool.n; m++)
    run.progress.total -= 2.0 * refsr_lte_macs (members[m].height,
                                                members[m].width);
  report (&run, "search");
  if (!refsr_exec_check (&run.exec, error))
    {
      run_clear (&run);
      return NULL;
    }
  return run_finish (&run, error);
}

static void
reference_strip_progress (double macs, void *data)
{
  Progress *p = data;

  p->done += macs;
  progress_done (p);
}

RefsrReference *
refsr_reference_new_pool (const RefsrModel *model, const RefsrImage *refs,
                          int n_refs, const RefsrOptions *options,
                          GError **error)
{
  RefsrExec exec = { 0 };
  Progress progress = { 0 };
  g_autofree RefsrSize *members = NULL;
  int n_members;

  g_return_val_if_fail (model != NULL, NULL);
  options = options_or_defaults (options);
  n_members = pool_sizes (refs, n_refs, options, &members, error);
  if (n_members == 0)
    return NULL;
  exec.n_threads = thread_count (options);
  exec.cancel = options->cancel;
  exec.tick = progress_tick;
  exec.tick_data = &progress;
  progress.options = options;
  progress.stage = "features";
  for (int m = 0; m < n_members; m++)
    progress.total += 2.0 * refsr_lte_macs (members[m].height / 4 * 4,
                                            members[m].width / 4 * 4);
  return reference_build (model, refs, n_refs, options,
                          refsr_plan_strip_rows (members, n_members,
                                                 options->max_memory),
                          refsr_plan_spill_reference (members, n_members,
                                                      options->max_memory),
                          reference_strip_progress, &progress, &exec, error);
}

RefsrReference *
refsr_reference_new (const RefsrModel *model, const RefsrImage *ref,
                     const RefsrOptions *options, GError **error)
{
  return refsr_reference_new_pool (model, ref, 1, options, error);
}

void
refsr_reference_free (RefsrReference *reference)
{
  if (reference == NULL)
    return;
  refsr_pool_clear (&reference->pool);
  g_free (reference);
}

void
refsr_reference_get_size (const RefsrReference *reference, int *width,
                          int *height)
{
  *width = reference->pool.members[0].width;
  *height = reference->pool.members[0].height;
}

int
refsr_reference_get_count (const RefsrReference *reference)
{
  return reference->pool.n;
}

void
refsr_result_free (RefsrResult *result)
{
  if (result == NULL)
    return;
  g_free (result->pixels);
  g_free (result->sr);
  g_free (result->S);
  g_free (result->idx);
  g_free (result->t_lv3);
  g_free (result->t_lv2);
  g_free (result->t_lv1);
  g_free (result);
}

gboolean
refsr_estimate_pool (const RefsrConfig *config, int lr_width, int lr_height,
                     const RefsrSize *refs, int n_refs,
                     const RefsrOptions *options, RefsrEstimate *estimate,
                     GError **error)
{
  g_autofree RefsrSize *members = NULL;
  RefsrRunPlan plan;
  int n_members;

  options = options_or_defaults (options);
  n_members = refsr_pool_member_sizes (refs, n_refs, options, &members, NULL,
                                       error);
  if (n_members == 0
      || !refsr_run_plan (config, lr_width, lr_height, members, n_members,
                          thread_count (options), options, -1, &plan, error))
    return FALSE;
  estimate->tile_size = plan.tile_size;
  estimate->peak_bytes = (guint64) plan.peak_bytes;
  estimate->flops = 2.0 * plan.macs;
  return TRUE;
}

gboolean
refsr_estimate (const RefsrConfig *config, int lr_width, int lr_height,
                int ref_width, int ref_height, const RefsrOptions *options,
                RefsrEstimate *estimate, GError **error)
{
  RefsrSize ref = { ref_width, ref_height };

  return refsr_estimate_pool (config, lr_width, lr_height, &ref, 1, options,
                              estimate, error);
}

double
refsr_estimate_flops (const RefsrConfig *config, int lr_width, int lr_height,
                      int ref_width, int ref_height)
{
  RefsrEstimate e = { 0 };

  refsr_estimate (config, lr_width, lr_height, ref_width, ref_height, NULL,
                  &e, NULL);
  return e.flops;
}

guint64
refsr_estimate_memory (const RefsrConfig *config, int lr_width,
                       int lr_height, int ref_width, int ref_height)
{
  RefsrEstimate e = { 0 };

  refsr_estimate (config, lr_width, lr_height, ref_width, ref_height, NULL,
                  &e, NULL);
  return e.peak_bytes;
}
