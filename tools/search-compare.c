/* search-compare.c — refsr-search-compare: the exact relevance search
 * against the fast one on real features.  For each input it computes the
 * query (LTE lv3 of LR↑) and the key (lv3 of Ref↓↑) as the engine does,
 * runs both searches with the same threads, and prints their times, the
 * share of positions whose index differs, the mean S of the exact search
 * and the mean loss of S.
 *
 *   refsr-search-compare [--weights FILE] [--threads N] LR REF
 *   refsr-search-compare [--weights FILE] [--threads N] --photos PHOTO...
 *
 * With --photos each photo makes a pair: LR is its top-left crop (at most
 * 480², a multiple of 4) downscaled by 4 with Pillow's bicubic, the
 * reference the same-sized crop shifted by --shift pixels right and down,
 * at full resolution (so the two overlap, misaligned with the feature
 * grid).
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "image-io.h"
#include "lte.h"
#include "pixels.h"
#include "resample.h"
#include "search-fast.h"
#include "search.h"

#define MAX_SIDE 480

typedef struct
{
  int width, height;
  guint8 *pixels;   /* packed RGB */
} Rgb;

static void
rgb_clear (Rgb *image)
{
  g_clear_pointer (&image->pixels, g_free);
}

/* The w×h window of src at (x0, y0), copied. */
static void
rgb_crop (const Rgb *src, int x0, int y0, int w, int h, Rgb *out)
{
  out->width = w;
  out->height = h;
  out->pixels = g_malloc ((gsize) w * h * 3);
  for (int y = 0; y < h; y++)
    memcpy (out->pixels + (gsize) y * w * 3,
            src->pixels + ((gsize) (y0 + y) * src->width + x0) * 3,
            (gsize) w * 3);
}

static gboolean
rgb_resize (const Rgb *src, int w, int h, Rgb *out, GError **error)
{
  out->width = w;
  out->height = h;
  out->pixels = g_malloc ((gsize) w * h * 3);
  return refsr_pil_resize (src->pixels, src->width, src->height,
                           src->width * 3, 3, out->pixels, w, h, error);
}

/* LTE lv3 of image (the network's input conversion first). */
static gboolean
lv3_features (const RefsrLte *lte, const Rgb *image, RefsrTensor *lv3,
              const RefsrExec *exec, GError **error)
{
  RefsrTensor x = { 0 };
  RefsrLteFeatures f = { 0 };
  gboolean ok = refsr_pixels_to_tensor (image->pixels, image->width,
                                        image->height, image->width * 3, &x,
                                        error)
                && refsr_lte_forward (lte, &x, 4u, &f, exec, error);

  refsr_tensor_clear (&x);
  if (ok)
    {
      *lv3 = f.lv3;
      memset (&f.lv3, 0, sizeof f.lv3);
    }
  refsr_lte_features_clear (&f);
  return ok;
}

/* query = lv3 of LR↑ (Pillow bicubic ×4), key = lv3 of Ref↓↑ (the
 * reference cropped to multiples of 4, down and up by 4), as
 * engine.c's search_tile and reference.c build them. */
static gboolean
make_features (const RefsrLte *lte, const Rgb *lr, const Rgb *ref,
               RefsrTensor *query, RefsrTensor *key, const RefsrExec *exec,
               GError **error)
{
  Rgb up = { 0 }, ref4 = { 0 }, small = { 0 }, blurred = { 0 };
  gboolean ok;

  if (ref->width < 16 || ref->height < 16)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The reference must be at least 16×16 pixels");
      return FALSE;
    }
  rgb_crop (ref, 0, 0, ref->width / 4 * 4, ref->height / 4 * 4, &ref4);
  ok = rgb_resize (lr, 4 * lr->width, 4 * lr->height, &up, error)
       && rgb_resize (&ref4, ref4.width / 4, ref4.height / 4, &small, error)
       && rgb_resize (&small, ref4.width, ref4.height, &blurred, error)
       && lv3_features (lte, &up, query, exec, error)
       && lv3_features (lte, &blurred, key, exec, error);
  rgb_clear (&up);
  rgb_clear (&ref4);
  rgb_clear (&small);
  rgb_clear (&blurred);
  return ok;
}

/* LR and reference made from one photo (see the header comment). */
static gboolean
pair_from_photo (const Rgb *photo, int shift, Rgb *lr, Rgb *ref,
                 GError **error)
{
  int w = MIN (photo->width - shift, MAX_SIDE) / 4 * 4;
  int h = MIN (photo->height - shift, MAX_SIDE) / 4 * 4;
  Rgb hr = { 0 };
  gboolean ok;

  if (w < 16 || h < 16)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The photo is too small for a shift of %d pixels", shift);
      return FALSE;
    }
  rgb_crop (photo, 0, 0, w, h, &hr);
  ok = rgb_resize (&hr, w / 4, h / 4, lr, error);
  rgb_crop (photo, shift, shift, w, h, ref);
  rgb_clear (&hr);
  return ok;
}

static gboolean
load_rgb (const char *path, Rgb *out, GError **error)
{
  RefsrIoImage image = { 0 };

  if (!refsr_io_load_image (path, NULL, &image, error))
    return FALSE;
  out->width = image.width;
  out->height = image.height;
  out->pixels = g_steal_pointer (&image.pixels);
  refsr_io_image_clear (&image);
  return TRUE;
}

/* CPU seconds of the whole process (all threads): steadier than wall time
 * on a shared machine. */
static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct
{
  double exact_s, fast_s;
  double exact_cpu, fast_cpu;
  double differ;       /* share of positions with another index */
  double mean_S;       /* of the exact search */
  double mean_loss;    /* mean of S_exact - S_fast */
  double worst_loss;
} Comparison;

static gboolean
compare_searches (const RefsrTensor *query, const RefsrTensor *key,
                  const RefsrSearchFastParams *params, int threads,
                  Comparison *cmp, GError **error)
{
  RefsrExec exec = { .n_threads = threads };
  gsize n = (gsize) query->h * query->w;
  gint64 *idx_exact = g_new (gint64, n), *idx_fast = g_new (gint64, n);
  float *S_exact = g_new (float, n), *S_fast = g_new (float, n);
  double c0 = cpu_seconds (), c1, c2;
  gint64 t0 = g_get_monotonic_time (), t1, t2;
  gboolean ok = refsr_search (query, key, idx_exact, S_exact, &exec, error);

  t1 = g_get_monotonic_time ();
  c1 = cpu_seconds ();
  ok = ok && refsr_search_fast_full (query, key, params, idx_fast, S_fast,
                                     &exec, error);
  t2 = g_get_monotonic_time ();
  c2 = cpu_seconds ();
  memset (cmp, 0, sizeof *cmp);
  cmp->exact_cpu = c1 - c0;
  cmp->fast_cpu = c2 - c1;
  cmp->exact_s = (t1 - t0) / 1e6;
  cmp->fast_s = (t2 - t1) / 1e6;
  for (gsize p = 0; ok && p < n; p++)
    {
      double loss = (double) S_exact[p] - S_fast[p];

      cmp->differ += (idx_exact[p] != idx_fast[p]) / (double) n;
      cmp->mean_S += S_exact[p] / (double) n;
      cmp->mean_loss += loss / n;
      cmp->worst_loss = MAX (cmp->worst_loss, loss);
    }
  g_free (idx_exact);
  g_free (idx_fast);
  g_free (S_exact);
  g_free (S_fast);
  return ok;
}

typedef struct
{
  char *weights;
  int threads;
  gboolean photos;
  int shift;
  RefsrSearchFastParams params;
} Args;

static gboolean
compare_pair (const RefsrLte *lte, const Args *args, const char *name,
              const Rgb *lr, const Rgb *ref, Comparison *total,
              GError **error)
{
  RefsrExec exec = { .n_threads = args->threads };
  RefsrTensor query = { 0 }, key = { 0 };
  Comparison cmp;
  gboolean ok = make_features (lte, lr, ref, &query, &key, &exec, error)
                && compare_searches (&query, &key, &args->params,
                                     args->threads, &cmp, error);

  if (ok)
    {
      int f = args->params.pool_factor > 0
              ? args->params.pool_factor
              : refsr_search_fast_pool_factor (query.h, query.w, key.h,
                                               key.w);

      printf ("| %s | %d×%d | %d×%d | %d | %.3f | %.3f | %.3f | %.3f "
              "| %.2f%% | %.4f | %.5f | %.3f |\n",
              name, query.w, query.h, key.w, key.h, f, cmp.exact_s,
              cmp.fast_s, cmp.fast_s / cmp.exact_s,
              cmp.fast_cpu / cmp.exact_cpu, 100 * cmp.differ,
              cmp.mean_S, cmp.mean_loss, cmp.worst_loss);
      fflush (stdout);
      total->exact_s += cmp.exact_s;
      total->fast_s += cmp.fast_s;
      total->exact_cpu += cmp.exact_cpu;
      total->fast_cpu += cmp.fast_cpu;
      total->differ += cmp.differ;
      total->mean_S += cmp.mean_S;
      total->mean_loss += cmp.mean_loss;
      total->worst_loss = MAX (total->worst_loss, cmp.worst_loss);
    }
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  return ok;
}

static gboolean
compare_inputs (const RefsrLte *lte, const Args *args, char **inputs,
                int n_inputs, GError **error)
{
  Comparison total = { 0 };
  int n_pairs = 0;
  gboolean ok = TRUE;

  printf ("| pair | LR lv3 | Ref lv3 | pool | exact s | fast s | fast/exact "
          "| CPU fast/exact | idx differ | mean S exact | mean S loss | worst S loss |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; ok && i < n_inputs; i += args->photos ? 1 : 2)
    {
      Rgb lr = { 0 }, ref = { 0 }, photo = { 0 };
      char *name = g_path_get_basename (inputs[i]);

      if (args->photos)
        ok = load_rgb (inputs[i], &photo, error)
             && pair_from_photo (&photo, args->shift, &lr, &ref, error);
      else
        ok = load_rgb (inputs[i], &lr, error)
             && load_rgb (inputs[i + 1], &ref, error);
      ok = ok && compare_pair (lte, args, name, &lr, &ref, &total, error);
      n_pairs += ok;
      g_free (name);
      rgb_clear (&lr);
      rgb_clear (&ref);
      rgb_clear (&photo);
    }
  if (ok && n_pairs > 1)
    printf ("| all %d | | | | %.3f | %.3f | %.3f | %.3f | %.2f%% | %.4f "
            "| %.5f | %.3f |\n",
            n_pairs, total.exact_s, total.fast_s,
            total.fast_s / total.exact_s, total.fast_cpu / total.exact_cpu,
            100 * total.differ / n_pairs,
            total.mean_S / n_pairs, total.mean_loss / n_pairs,
            total.worst_loss);
  return ok;
}

static gboolean
parse_args (int *argc, char ***argv, Args *args, GError **error)
{
  GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &args->weights,
      "Model file (default: the built-in model)", "FILE" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &args->threads,
      "Threads for both searches (default 2)", "N" },
    { "photos", 'p', 0, G_OPTION_ARG_NONE, &args->photos,
      "Each argument is a photo that makes an LR and reference pair", NULL },
    { "shift", 's', 0, G_OPTION_ARG_INT, &args->shift,
      "With --photos: the reference's offset in pixels (default 37)", "PX" },
    { "pool", 0, 0, G_OPTION_ARG_INT, &args->params.pool_factor,
      "Fast search's pool factor (default: from the sizes)", "F" },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &args->params.iterations,
      "Fast search's refinement sweeps", "N" },
    { "samples", 0, 0, G_OPTION_ARG_INT, &args->params.random_samples,
      "Fast search's random candidates per sweep", "N" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("LR REF | --photos PHOTO...");
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Times the exact and the fast relevance search on the features of real\n"
    "images and prints how far the fast one's matches fall behind.");
  ok = g_option_context_parse (context, argc, argv, error);
  g_option_context_free (context);
  if (ok && (args->threads < 1 || args->shift < 0
             || (args->photos ? *argc < 2 : *argc != 3)))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "usage: refsr-search-compare [--threads N] LR REF"
                           " | --photos PHOTO... (--help for more)");
      ok = FALSE;
    }
  return ok;
}

int
main (int argc, char **argv)
{
  Args args = { .threads = 2, .shift = 37 };
  GError *error = NULL;
  RefsrModel *model = NULL;
  gboolean ok;

  refsr_io_init ();
  ok = parse_args (&argc, &argv, &args, &error)
       && (model = args.weights != NULL
                   ? refsr_model_load (args.weights, &error)
                   : refsr_model_load_default (&error)) != NULL
       && compare_inputs (&model->lte, &args, argv + 1, argc - 1, &error);
  if (!ok)
    fprintf (stderr, "refsr-search-compare: %s\n", error->message);
  g_clear_error (&error);
  if (model != NULL)
    refsr_model_free (model);
  g_free (args.weights);
  refsr_io_exit ();
  return ok ? 0 : 1;
}
