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
#include "reference.h"
#include "resample.h"
#include "search.h"
#include "tiling.h"
#include "transfer.h"

/* Everything a run owns, so one function can free it on any exit path. */
typedef struct
{
  const RefsrModel *model;
  const RefsrOptions *options;
  const gint64 *forced_idx; /* oracle mode (refsr-internal.h), or NULL */
  RefsrExec exec;
  const RefsrImage *lr;
  int h, w;                 /* LR size */
  guint8 *lr_up;            /* LR↑, Pillow bicubic, 4w × 4h RGB */
  RefsrReferenceData ref;
  RefsrTileMargins margins;
  RefsrRunPlan plan;
  RefsrRect *tiles;
  int n_tiles;
  gint64 *idx;              /* h·w hard-attention indices */
  RefsrTensor S, sr;        /* 1×h×w; 3×4h×4w */
  RefsrTensor t3, t2, t1;   /* whole maps, only with keep_textures */
  double macs_total, macs_done, macs_stage_start;
} Run;

static void
report (Run *run, const char *stage)
{
  if (run->options->progress != NULL)
    run->options->progress (MIN (run->macs_done / run->macs_total, 1.0),
                            stage, run->options->progress_data);
}

static void
mainnet_layer_done (double macs, void *data)
{
  Run *run = data;
  run->macs_done = run->macs_stage_start + macs;
  report (run, "reconstruction");
}

static void
reference_strip_done (double macs, void *data)
{
  Run *run = data;
  run->macs_done += macs;
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

static gboolean
prepare (Run *run, const RefsrImage *ref, GError **error)
{
  int h = run->h, w = run->w;

  run->lr_up = refsr_try_alloc ((gsize) 16 * h * w, 3, error);
  run->idx = run->lr_up ? refsr_try_alloc ((gsize) h * w, sizeof (gint64),
                                           error)
                        : NULL;
  return run->idx != NULL
         && refsr_tensor_alloc (&run->S, 1, h, w, error)
         && refsr_tensor_alloc (&run->sr, 3, 4 * h, 4 * w, error)
         && (!run->options->keep_textures
             || (refsr_tensor_alloc (&run->t3, 256, h, w, error)
                 && refsr_tensor_alloc (&run->t2, 128, 2 * h, 2 * w, error)
                 && refsr_tensor_alloc (&run->t1, 64, 4 * h, 4 * w, error)))
         && refsr_pil_resize (run->lr->pixels, w, h, run->lr->rowstride, 3,
                              run->lr_up, 4 * w, 4 * h, error)
         && refsr_reference_data_build (&run->ref, &run->model->lte,
                                        ref->pixels, ref->width, ref->height,
                                        ref->rowstride, run->plan.strip_rows,
                                        reference_strip_done, run,
                                        &run->exec, error);
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

/* Indices and S of the tile's positions: the LTE of LR↑ over the tile and
 * its search margin, searched against the whole reference. */
static gboolean
search_tile (Run *run, const RefsrRect *tile, GError **error)
{
  RefsrRect r = refsr_rect_grow (tile, run->margins.search, run->w, run->h);
  int rw = refsr_rect_width (&r), rh = refsr_rect_height (&r);
  RefsrTensor x = { 0 }, S = { 0 };
  RefsrLteFeatures q = { 0 };
  gint64 *idx = refsr_try_alloc ((gsize) rw * rh, sizeof (gint64), error);
  gboolean ok;

  ok = idx != NULL
       && refsr_tensor_alloc (&S, 1, rh, rw, error)
       && refsr_pixels_to_tensor (run->lr_up + ((gsize) 4 * r.y0 * 4 * run->w
                                                + 4 * r.x0) * 3,
                                  4 * rw, 4 * rh, 4 * run->w * 3, &x, error)
       && refsr_lte_forward (&run->model->lte, &x, 4u, &q, &run->exec,
                             error);
  if (ok)
    {
      /* the LR's features are reported apart, so that the stages' times
       * mean the same with and without tiles */
      run->macs_done += refsr_lte_macs (4 * rh, 4 * rw);
      report (run, "features");
    }
  ok = ok && refsr_search (&q.lv3, &run->ref.key, idx, S.data, &run->exec,
                           error);
  if (ok)
    {
      for (int y = tile->y0; y < tile->y1; y++)
        memcpy (run->idx + (gsize) y * run->w + tile->x0,
                idx + (gsize) (y - r.y0) * rw + (tile->x0 - r.x0),
                (gsize) refsr_rect_width (tile) * sizeof (gint64));
      copy_interior (&S, &r, tile, 1, &run->S);
      run->macs_done += refsr_search_macs (rh, rw, run->ref.height,
                                           run->ref.width);
      report (run, "search");
    }
  g_free (idx);
  refsr_tensor_clear (&x);
  refsr_tensor_clear (&S);
  refsr_lte_features_clear (&q);
  return ok && refsr_exec_check (&run->exec, error);
}

static gboolean
apply_forced_indices (Run *run, GError **error)
{
  const gint64 *forced = run->forced_idx;
  gsize n = (gsize) run->h * run->w;
  gsize q = (gsize) (run->ref.height / 4) * (run->ref.width / 4);

  for (gsize p = 0; p < n; p++)
    if (forced[p] < 0 || (gsize) forced[p] >= q)
      {
        g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                     "Forced index %" G_GINT64_FORMAT " at position %"
                     G_GSIZE_FORMAT " is outside the reference",
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

  refsr_transfer (&run->ref.value.lv3, 1, m->idx, rh, rw, &m->t3, &run->exec);
  refsr_transfer (&run->ref.value.lv2, 2, m->idx, rh, rw, &m->t2, &run->exec);
  refsr_transfer (&run->ref.value.lv1, 4, m->idx, rh, rw, &m->t1, &run->exec);
  run->macs_done += refsr_transfer_macs (rh, rw);
  report (run, "transfer");
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
  /* The last tile's main network runs without the reference's features,
   * so a whole-image run peaks no higher than the main network itself. */
  if (last)
    refsr_reference_data_clear (&run->ref);
  ok = ok && refsr_exec_check (&run->exec, error);
  run->macs_stage_start = run->macs_done;
  ok = ok && refsr_tensor_alloc (&m.sr, 3, 4 * refsr_rect_height (&r),
                                 4 * refsr_rect_width (&r), error)
       && refsr_mainnet_forward (run->model, &m.lr, &m.S, &m.t3, &m.t2,
                                 &m.t1, &m.sr, mainnet_layer_done, run,
                                 &run->exec, error);
  if (ok)
    {
      copy_interior (&m.sr, &r, tile, 4, &run->sr);
      if (run->options->keep_textures)
        {
          copy_interior (&m.t3, &r, tile, 1, &run->t3);
          copy_interior (&m.t2, &r, tile, 2, &run->t2);
          copy_interior (&m.t1, &r, tile, 4, &run->t1);
        }
    }
  region_maps_clear (&m);
  return ok;
}

static gboolean
run_tiles (Run *run, GError **error)
{
  gboolean ok = TRUE;

  for (int i = 0; ok && i < run->n_tiles; i++)
    ok = search_tile (run, &run->tiles[i], error);
  ok = ok && (run->forced_idx == NULL || apply_forced_indices (run, error));
  g_clear_pointer (&run->lr_up, g_free);
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
  refsr_reference_data_clear (&run->ref);
  g_free (run->lr_up);
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
make_result (Run *run, GError **error)
{
  RefsrResult *result;
  guint8 *rgb = refsr_try_alloc ((gsize) run->sr.h * run->sr.w, 3, error);

  if (rgb == NULL)
    return NULL;
  refsr_tensor_to_pixels (&run->sr, rgb);
  result = g_new0 (RefsrResult, 1);
  result->width = 4 * run->w;
  result->height = 4 * run->h;
  result->pixels = rgb;
  result->lr_width = run->w;
  result->lr_height = run->h;
  result->ref_lv3_width = run->ref.width / 4;
  result->ref_lv3_height = run->ref.height / 4;
  steal_floats (&run->sr, &result->sr);
  steal_floats (&run->S, &result->S);
  if (run->options->keep_textures)
    {
      result->idx = run->idx;
      run->idx = NULL;
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

RefsrResult *
refsr_run_with_indices (const RefsrModel *model, const RefsrImage *lr,
                        const RefsrImage *ref, const RefsrOptions *options,
                        const gint64 *forced_idx, GError **error)
{
  static const RefsrOptions defaults = REFSR_OPTIONS_INIT;
  Run run = { 0 };
  RefsrResult *result = NULL;

  g_return_val_if_fail (model != NULL, NULL);
  run.model = model;
  run.options = options != NULL ? options : &defaults;
  run.forced_idx = forced_idx;
  run.exec.n_threads = thread_count (run.options);
  run.exec.cancel = run.options->cancel;
  if (!check_image (lr, "low-resolution", 1, REFSR_MAX_LR_PIXELS, error)
      || !check_image (ref, "reference", 4, REFSR_MAX_REF_PIXELS, error))
    return NULL;
  run.lr = lr;
  run.h = lr->height;
  run.w = lr->width;
  if (!refsr_run_plan (&model->config, run.w, run.h, ref->width,
                       ref->height, run.exec.n_threads,
                       run.options->tile_size, run.options->max_memory,
                       run.options->keep_textures, &run.plan, error))
    return NULL;
  refsr_tile_margins (&run.margins);
  run.tiles = refsr_tiles (run.w, run.h, run.plan.tile_size, &run.n_tiles);
  run.macs_total = run.plan.macs;
  report (&run, "features");
  if (refsr_exec_check (&run.exec, error) && prepare (&run, ref, error)
      && run_tiles (&run, error))
    result = make_result (&run, error);
  run_clear (&run);
  if (result != NULL && run.options->progress != NULL)
    run.options->progress (1.0, "reconstruction", run.options->progress_data);
  return result;
}

RefsrResult *
refsr_run (const RefsrModel *model, const RefsrImage *lr,
           const RefsrImage *ref, const RefsrOptions *options, GError **error)
{
  return refsr_run_with_indices (model, lr, ref, options, NULL, error);
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
refsr_estimate (const RefsrConfig *config, int lr_width, int lr_height,
                int ref_width, int ref_height, const RefsrOptions *options,
                RefsrEstimate *estimate, GError **error)
{
  static const RefsrOptions defaults = REFSR_OPTIONS_INIT;
  RefsrRunPlan plan;

  if (options == NULL)
    options = &defaults;
  if (!refsr_run_plan (config, lr_width, lr_height, ref_width, ref_height,
                       thread_count (options), options->tile_size,
                       options->max_memory, options->keep_textures, &plan,
                       error))
    return FALSE;
  estimate->tile_size = plan.tile_size;
  estimate->peak_bytes = (guint64) plan.peak_bytes;
  estimate->flops = 2.0 * plan.macs;
  return TRUE;
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
