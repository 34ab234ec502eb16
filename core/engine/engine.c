/* engine.c — refsr_run: preprocessing, features, search, transfer, main
 * network, output; progress and cancellation around them.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-internal.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "layers.h"
#include "lte.h"
#include "mainnet.h"
#include "resample.h"
#include "search.h"
#include "transfer.h"

/* Everything a run owns, so one function can free it on any exit path. */
typedef struct
{
  const RefsrModel *model;
  const RefsrOptions *options;
  const gint64 *forced_idx; /* oracle mode (refsr-internal.h), or NULL */
  RefsrExec exec;
  int h, w, H, W;           /* LR size; reference size cropped to 4k */
  RefsrTensor lr, lrsr, ref, refsr;
  RefsrLteFeatures q, k, v; /* lv3 of LR↑ and Ref↓↑; lv1..3 of Ref */
  RefsrTensor S, t3, t2, t1, sr;
  gint64 *idx;
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

static double
search_macs (int h, int w, int H, int W)
{
  /* pixel-pair products plus the 9 shifted adds per patch pair */
  return (256.0 + 9.0) * h * w * (double) (H / 4) * (W / 4);
}

static double
transfer_macs (int h, int w)
{
  return 16128.0 * h * w;
}

/* Feature maps are indexed with int: the largest is 64 channels at 4h×4w
 * for the LR (1024·h·w values) and 64 channels at H×W for the reference. */
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

/* u8 RGB (packed, w*3 per row) -> 3×h×w floats v / 127.5 - 1 (spec §3.1) */
static gboolean
image_to_tensor (const guint8 *rgb, int w, int h, int stride, RefsrTensor *t,
                 GError **error)
{
  if (!refsr_tensor_alloc (t, 3, h, w, error))
    return FALSE;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        t->data[((gsize) c * h + y) * w + x]
            = (float) rgb[(gsize) y * stride + 3 * x + c] / 127.5f - 1.0f;
  return TRUE;
}

/* PIL-resizes src to (w, h) and converts it; the u8 result is freed. */
static gboolean
resized_tensor (const guint8 *src, int sw, int sh, int stride, int w, int h,
                RefsrTensor *t, guint8 **keep_u8, GError **error)
{
  guint8 *u8 = refsr_try_alloc ((gsize) w * h, 3, error);
  gboolean ok;

  if (u8 == NULL)
    return FALSE;
  ok = refsr_pil_resize (src, sw, sh, stride, 3, u8, w, h, error)
       && (t == NULL || image_to_tensor (u8, w, h, w * 3, t, error));
  if (ok && keep_u8 != NULL)
    *keep_u8 = u8;
  else
    g_free (u8);
  return ok;
}

static gboolean
preprocess (Run *run, const RefsrImage *lr, const RefsrImage *ref,
            GError **error)
{
  guint8 *ref_small = NULL;
  gboolean ok;

  run->h = lr->height;
  run->w = lr->width;
  run->H = ref->height / 4 * 4;
  run->W = ref->width / 4 * 4;
  ok = image_to_tensor (lr->pixels, run->w, run->h, lr->rowstride, &run->lr,
                        error)
       && resized_tensor (lr->pixels, run->w, run->h, lr->rowstride,
                          4 * run->w, 4 * run->h, &run->lrsr, NULL, error)
       && image_to_tensor (ref->pixels, run->W, run->H, ref->rowstride,
                           &run->ref, error)
       /* Ref↓↑: two separate uint8 resamplings of the cropped reference */
       && resized_tensor (ref->pixels, run->W, run->H, ref->rowstride,
                          run->W / 4, run->H / 4, NULL, &ref_small, error)
       && resized_tensor (ref_small, run->W / 4, run->H / 4, run->W / 4 * 3,
                          run->W, run->H, &run->refsr, NULL, error);
  g_free (ref_small);
  return ok;
}

static gboolean
lte_pass (Run *run, RefsrTensor *image, unsigned levels,
          RefsrLteFeatures *out, GError **error)
{
  gboolean ok = refsr_lte_forward (&run->model->lte, image, levels, out,
                                   &run->exec, error);

  refsr_tensor_clear (image);
  run->macs_done += refsr_lte_macs (out->lv1.h ? out->lv1.h : 4 * out->lv3.h,
                                    out->lv1.w ? out->lv1.w : 4 * out->lv3.w);
  report (run, "features");
  return ok && refsr_exec_check (&run->exec, error);
}

static gboolean
search_and_transfer (Run *run, GError **error)
{
  int h = run->h, w = run->w;
  const gint64 *forced = run->forced_idx;
  gsize q = (gsize) (run->H / 4) * (run->W / 4);

  run->idx = refsr_try_alloc ((gsize) h * w, sizeof (gint64), error);
  if (run->idx == NULL || !refsr_tensor_alloc (&run->S, 1, h, w, error))
    return FALSE;
  if (forced != NULL)
    {
      for (gsize p = 0; p < (gsize) h * w; p++)
        if (forced[p] < 0 || (gsize) forced[p] >= q)
          {
            g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                         "Forced index %" G_GINT64_FORMAT " at position %"
                         G_GSIZE_FORMAT " is outside the reference",
                         forced[p], p);
            return FALSE;
          }
    }
  /* with forced indices the search still runs, for S */
  if (!refsr_search (&run->q.lv3, &run->k.lv3, run->idx, run->S.data,
                     &run->exec, error))
    return FALSE;
  if (forced != NULL)
    memcpy (run->idx, forced, (gsize) h * w * sizeof (gint64));
  refsr_lte_features_clear (&run->q);
  refsr_lte_features_clear (&run->k);
  run->macs_done += search_macs (h, w, run->H, run->W);
  report (run, "search");
  if (!refsr_tensor_alloc (&run->t3, 256, h, w, error)
      || !refsr_tensor_alloc (&run->t2, 128, 2 * h, 2 * w, error)
      || !refsr_tensor_alloc (&run->t1, 64, 4 * h, 4 * w, error))
    return FALSE;
  refsr_transfer (&run->v.lv3, 1, run->idx, h, w, &run->t3, &run->exec);
  refsr_transfer (&run->v.lv2, 2, run->idx, h, w, &run->t2, &run->exec);
  refsr_transfer (&run->v.lv1, 4, run->idx, h, w, &run->t1, &run->exec);
  refsr_lte_features_clear (&run->v);
  run->macs_done += transfer_macs (h, w);
  report (run, "transfer");
  return refsr_exec_check (&run->exec, error);
}

/* round-half-to-even((sr + 1) · 127.5) as torch.round does (spec §3.4);
 * rintf rounds half to even in the default rounding mode */
static guint8 *
to_rgb8 (const RefsrTensor *sr, GError **error)
{
  gsize plane = (gsize) sr->h * sr->w;
  guint8 *rgb = refsr_try_alloc (plane, 3, error);

  if (rgb == NULL)
    return NULL;
  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = rintf ((sr->data[c * plane + i] + 1.0f) * 127.5f);
        rgb[3 * i + c] = (guint8) CLAMP (v, 0.0f, 255.0f);
      }
  return rgb;
}

static gboolean
reconstruct (Run *run, GError **error)
{
  run->macs_stage_start = run->macs_done;
  return refsr_tensor_alloc (&run->sr, 3, 4 * run->h, 4 * run->w, error)
         && refsr_mainnet_forward (run->model, &run->lr, &run->S, &run->t3,
                                   &run->t2, &run->t1, &run->sr,
                                   mainnet_layer_done, run, &run->exec,
                                   error);
}

static void
run_clear (Run *run)
{
  RefsrTensor *tensors[] = { &run->lr, &run->lrsr, &run->ref, &run->refsr,
                             &run->S, &run->t3, &run->t2, &run->t1,
                             &run->sr };
  for (gsize i = 0; i < G_N_ELEMENTS (tensors); i++)
    refsr_tensor_clear (tensors[i]);
  refsr_lte_features_clear (&run->q);
  refsr_lte_features_clear (&run->k);
  refsr_lte_features_clear (&run->v);
  g_free (run->idx);
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
  guint8 *rgb = to_rgb8 (&run->sr, error);

  if (rgb == NULL)
    return NULL;
  result = g_new0 (RefsrResult, 1);
  result->width = 4 * run->w;
  result->height = 4 * run->h;
  result->pixels = rgb;
  result->lr_width = run->w;
  result->lr_height = run->h;
  result->ref_lv3_width = run->W / 4;
  result->ref_lv3_height = run->H / 4;
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

static gboolean
features (Run *run, GError **error)
{
  return lte_pass (run, &run->lrsr, 4, &run->q, error)
         && lte_pass (run, &run->refsr, 4, &run->k, error)
         && lte_pass (run, &run->ref, 7, &run->v, error);
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
  run.macs_total = refsr_estimate_flops (&model->config, lr->width,
                                         lr->height, ref->width,
                                         ref->height) / 2.0;
  report (&run, "features");
  if (refsr_exec_check (&run.exec, error) && preprocess (&run, lr, ref, error)
      && features (&run, error) && search_and_transfer (&run, error)
      && reconstruct (&run, error))
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

double
refsr_estimate_flops (const RefsrConfig *config, int lr_width, int lr_height,
                      int ref_width, int ref_height)
{
  int H = ref_height / 4 * 4, W = ref_width / 4 * 4;
  double macs = refsr_lte_macs (4 * lr_height, 4 * lr_width)
                + 2.0 * refsr_lte_macs (H, W)
                + search_macs (lr_height, lr_width, H, W)
                + transfer_macs (lr_height, lr_width)
                + refsr_mainnet_macs (config, lr_height, lr_width);
  return 2.0 * macs;
}

guint64
refsr_estimate_memory (const RefsrConfig *config, int lr_width,
                       int lr_height, int ref_width, int ref_height)
{
  double p = (double) lr_width * lr_height;
  double hw = (double) (ref_height / 4 * 4) * (ref_width / 4 * 4);
  double f = config->n_feats;
  /* Floats alive at each stage's peak: the LTE's first two full-resolution
   * maps of LR↑ (2 × 64 × 16 per LR pixel), or of Ref with the kept lv1
   * and the key features (about 165 per reference pixel); the reference
   * features during the search and transfer; in the main network the T
   * maps (1792 per LR pixel) with about six f-channel maps at 4h×4w. */
  double lte_peak = MAX (2100.0 * p, 165.0 * hw + 256.0 * p);
  double search_peak = 112.0 * hw + 1792.0 * p + 256.0 * (p + hw / 16.0);
  double main_peak = 1792.0 * p + 6.0 * f * 16.0 * p + 3.0 * 16.0 * p;
  double peak = MAX (lte_peak, MAX (search_peak, main_peak));
  /* per-thread scratch (im2col bands, search tiles) and the model */
  double scratch = 16.0 * 1048576.0 * MAX (g_get_num_processors (), 1);

  return (guint64) (4.0 * peak + scratch) + (64u << 20);
}
