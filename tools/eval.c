/* eval.c — refsr-eval: PSNR-Y and SSIM-Y of PIL bicubic, of the model with
 * its reference, of the model with an unrelated reference and of the model
 * with the LR image as its own reference (TTSR's Urban100 protocol), over a
 * folder of validation pairs, printed as a Markdown table.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The folder holds NAME_hr.png, NAME_lr.png, NAME_ref.png and
 * NAME_unrelated.png for each pair (what tools/train/make_pairs.py writes
 * into its val/ folder).  HR is cropped to 4× the LR size when larger. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "image-io.h"
#include "metrics.h"
#include "refsr.h"
#include "resample.h"

enum { BICUBIC, WITH_REF, WITH_UNRELATED, WITH_SELF, N_METHODS };
enum { HR, LR, REF, UNRELATED, N_FILES };
static const char *const file_suffix[N_FILES] = { "_hr.png", "_lr.png",
                                                  "_ref.png", "_unrelated.png" };

typedef struct
{
  double psnr, ssim;
} Score;

typedef struct
{
  char *name;
  Score score[N_METHODS];
} Row;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The NAMEs of every NAME_hr.png in dir, sorted. */
static GPtrArray *
list_pairs (const char *dir, GError **error)
{
  GDir *folder = g_dir_open (dir, 0, error);
  GPtrArray *names;
  const char *entry;

  if (folder == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((entry = g_dir_read_name (folder)) != NULL)
    if (g_str_has_suffix (entry, file_suffix[HR])
        && strlen (entry) > strlen (file_suffix[HR]))
      g_ptr_array_add (names, g_strndup (entry, strlen (entry)
                                                    - strlen (file_suffix[HR])));
  g_dir_close (folder);
  if (names->len == 0)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "No validation pairs in '%s' (expected NAME_hr.png, "
                   "NAME_lr.png, NAME_ref.png, NAME_unrelated.png)", dir);
      g_ptr_array_unref (names);
      return NULL;
    }
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* Checked before any work, so a broken folder fails at once. */
static gboolean
check_pairs_complete (const char *dir, GPtrArray *names, GError **error)
{
  for (guint i = 0; i < names->len; i++)
    for (int f = LR; f < N_FILES; f++)
      {
        const char *name = g_ptr_array_index (names, i);
        char *file = g_strconcat (name, file_suffix[f], NULL);
        char *path = g_build_filename (dir, file, NULL);
        gboolean found = g_file_test (path, G_FILE_TEST_IS_REGULAR);
        if (!found)
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                       "%s has no %s (each NAME_hr.png needs NAME_lr.png, "
                       "NAME_ref.png and NAME_unrelated.png)", dir, file);
        g_free (path);
        g_free (file);
        if (!found)
          return FALSE;
      }
  return TRUE;
}

static gboolean
load_pair (const char *dir, const char *name, RefsrIoImage *images,
           GError **error)
{
  for (int i = 0; i < N_FILES; i++)
    {
      char *file = g_strconcat (name, file_suffix[i], NULL);
      char *path = g_build_filename (dir, file, NULL);
      gboolean ok = refsr_io_load_image (path, NULL, &images[i], error);
      g_free (path);
      g_free (file);
      if (!ok)
        return FALSE;
    }
  if (images[HR].width < 4 * images[LR].width
      || images[HR].height < 4 * images[LR].height)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "%s_hr.png is %d×%d, smaller than 4× %s_lr.png (%d×%d)",
                   name, images[HR].width, images[HR].height, name,
                   images[LR].width, images[LR].height);
      return FALSE;
    }
  return TRUE;
}

static gboolean
score_output (const RefsrImage *hr, const guint8 *rgb, Score *score,
              GError **error)
{
  RefsrImage sr = { rgb, hr->width, hr->height, hr->width * 3 };

  score->psnr = metrics_psnr_y (&sr, hr);
  return metrics_ssim_y (&sr, hr, &score->ssim, error);
}

static gboolean
score_bicubic (const RefsrIoImage *lr, const RefsrImage *hr, Score *score,
               GError **error)
{
  guint8 *up = g_try_malloc ((gsize) hr->width * hr->height * 3);
  gboolean ok;

  if (up == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory enlarging a %d×%d image", lr->width,
                   lr->height);
      return FALSE;
    }
  ok = refsr_pil_resize (lr->pixels, lr->width, lr->height, lr->width * 3, 3,
                         up, hr->width, hr->height, error)
       && score_output (hr, up, score, error);
  g_free (up);
  return ok;
}

static gboolean
score_model (const RefsrModel *model, const RefsrOptions *options,
             const RefsrIoImage *lr, const RefsrIoImage *ref, const RefsrImage *hr,
             Score *score, GError **error)
{
  RefsrImage lr_image = { lr->pixels, lr->width, lr->height, lr->width * 3 };
  RefsrImage ref_image = { ref->pixels, ref->width, ref->height,
                           ref->width * 3 };
  RefsrResult *result = refsr_run (model, &lr_image, &ref_image, options,
                                   error);
  gboolean ok;

  if (result == NULL)
    return FALSE;
  ok = score_output (hr, result->pixels, score, error);
  refsr_result_free (result);
  return ok;
}

static gboolean
evaluate_pair (const RefsrModel *model, const RefsrOptions *options,
               const char *dir, Row *row, GError **error)
{
  RefsrIoImage images[N_FILES] = { { 0 } };
  RefsrImage hr;
  gboolean ok = load_pair (dir, row->name, images, error);

  if (ok)
    {
      /* the top-left 4w×4h of HR, in place */
      hr = (RefsrImage){ images[HR].pixels, 4 * images[LR].width,
                         4 * images[LR].height, images[HR].width * 3 };
      ok = score_bicubic (&images[LR], &hr, &row->score[BICUBIC], error)
           && score_model (model, options, &images[LR], &images[REF], &hr,
                           &row->score[WITH_REF], error)
           && score_model (model, options, &images[LR], &images[UNRELATED],
                           &hr, &row->score[WITH_UNRELATED], error)
           && score_model (model, options, &images[LR], &images[LR], &hr,
                           &row->score[WITH_SELF], error);
      if (!ok)
        g_prefix_error (error, "%s: ", row->name);
    }
  for (int i = 0; i < N_FILES; i++)
    refsr_io_image_clear (&images[i]);
  return ok;
}

static void
print_row (const char *name, const Score *score)
{
  printf ("| %s |", name);
  for (int m = 0; m < N_METHODS; m++)
    printf (" %.3f | %.4f |", score[m].psnr, score[m].ssim);
  printf ("\n");
}

static void
print_table (const Row *rows, int n_rows)
{
  Score mean[N_METHODS] = { { 0 } };

  printf ("| image | bicubic PSNR | bicubic SSIM | model PSNR | model SSIM "
          "| unrelated-ref PSNR | unrelated-ref SSIM "
          "| self-ref PSNR | self-ref SSIM |\n");
  printf ("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < n_rows; i++)
    {
      print_row (rows[i].name, rows[i].score);
      for (int m = 0; m < N_METHODS; m++)
        {
          mean[m].psnr += rows[i].score[m].psnr / n_rows;
          mean[m].ssim += rows[i].score[m].ssim / n_rows;
        }
    }
  print_row ("**mean**", mean);
}

static gboolean
evaluate_folder (const char *weights, int threads, const char *dir,
                 GError **error)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;
  GPtrArray *names = list_pairs (dir, error);
  RefsrModel *model = NULL;
  Row *rows = NULL;
  gboolean ok = names != NULL && check_pairs_complete (dir, names, error)
                && (model = refsr_model_load (weights, error)) != NULL;

  options.n_threads = threads;
  if (ok)
    rows = g_new0 (Row, names->len);
  for (guint i = 0; ok && i < names->len; i++)
    {
      rows[i].name = g_ptr_array_index (names, i);
      ok = evaluate_pair (model, &options, dir, &rows[i], error);
    }
  if (ok)
    print_table (rows, (int) names->len);
  g_free (rows);
  if (model)
    refsr_model_free (model);
  if (names)
    g_ptr_array_unref (names);
  return ok;
}

static gboolean
parse_args (int *argc, char ***argv, char **weights, int *threads,
            GError **error)
{
  GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, weights,
      "Model weights (safetensors or PyTorch checkpoint)", "FILE" },
    { "threads", 't', 0, G_OPTION_ARG_INT, threads,
      "Threads to use (default: all cores)", "N" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("DIR");
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
      "Prints PSNR-Y and SSIM-Y of bicubic, of the model with its reference,\n"
      "with an unrelated reference and with the LR image as its own reference\n"
      "(self-ref, TTSR's Urban100 protocol) for the pairs in DIR\n"
      "(NAME_hr.png, NAME_lr.png, NAME_ref.png, NAME_unrelated.png).");
  ok = g_option_context_parse (context, argc, argv, error);
  g_option_context_free (context);
  if (ok && (*weights == NULL || *argc != 2 || *threads < 0))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           *threads < 0 ? "--threads must be 1 or more"
                           : "usage: refsr-eval --weights FILE [--threads N] "
                             "DIR (see --help)");
      ok = FALSE;
    }
  return ok;
}

int
main (int argc, char **argv)
{
  char *weights = NULL;
  int threads = 0;
  GError *error = NULL;
  gboolean ok;

  ok = parse_args (&argc, &argv, &weights, &threads, &error);
  if (ok)
    {
      refsr_io_init ();
      ok = evaluate_folder (weights, threads, argv[1], &error);
      refsr_io_exit ();
    }
  if (!ok)
    fprintf (stderr, "refsr-eval: %s\n", error->message);
  g_clear_error (&error);
  g_free (weights);
  return ok ? 0 : 1;
}
