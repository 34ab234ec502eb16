/* test-api.c — the public API as a client sees it: built against refsr_dep
 * alone (core/include/refsr.h), so it also proves that the command's and
 * the plug-in's needs are met without internal headers.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "refsr.h"

#define FIXTURE_WEIGHTS "weights-1+1+1+1-seed1.safetensors"

static char *
fixture_weights (void)
{
  const char *dir = g_getenv ("REFSR_FIXTURES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, FIXTURE_WEIGHTS, NULL);
}

static RefsrModel *
fixture_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *weights = fixture_weights ();
  RefsrModel *model = refsr_model_load (weights, &error);

  g_assert_no_error (error);
  return model;
}

static void
test_options_init (void)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;

  g_assert_cmpint (options.n_threads, ==, 0);
  g_assert_null (options.progress);
  g_assert_null (options.progress_data);
  g_assert_null (options.cancel);
  g_assert_false (options.keep_textures);
  g_assert_cmpint (options.tile_size, ==, 0);
  g_assert_cmpuint (options.max_memory, ==, 0);
  g_assert_null (options.tile_done);
  g_assert_null (options.tile_data);
}

static void
test_default_model_from_environment (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *weights = fixture_weights ();
  g_autofree char *path = NULL;

  g_setenv ("REFSR_WEIGHTS", weights, TRUE);
  path = refsr_default_model_path (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, weights);

  g_setenv ("REFSR_WEIGHTS", "", TRUE);
  g_assert_null (refsr_default_model_path (&error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);

  g_setenv ("REFSR_WEIGHTS", "/nonexistent/model.safetensors", TRUE);
  g_assert_null (refsr_model_load_default (&error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "/nonexistent/model.safetensors"));
  g_unsetenv ("REFSR_WEIGHTS");
}

/* A program run from its build folder finds data/ of the source tree. */
static void
test_default_model_from_build_tree (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  g_unsetenv ("REFSR_WEIGHTS");
  if (!g_file_test (REFSR_TEST_SOURCE_MODEL, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("the source tree has no data/refsr-default.safetensors");
      return;
    }
  path = refsr_default_model_path (&error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, "/data/" REFSR_DEFAULT_MODEL_NAME));
}

/* A model beside the program (a per-user plug-in install) comes first. */
static void
test_default_model_beside_program (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_path_get_dirname (exe);
  g_autofree char *beside = g_build_filename (dir, REFSR_DEFAULT_MODEL_NAME,
                                              NULL);
  g_autofree char *weights = fixture_weights ();
  g_autofree char *contents = NULL;
  g_autofree char *path = NULL;
  gsize length;

  g_unsetenv ("REFSR_WEIGHTS");
  g_assert_true (g_file_get_contents (weights, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (beside, contents, length, NULL));
  path = refsr_default_model_path (&error);
  g_unlink (beside);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, beside);
}

static guint8 *
gradient (int width, int height)
{
  guint8 *rgb = g_malloc ((gsize) width * height * 3);

  for (int i = 0; i < width * height * 3; i++)
    rgb[i] = (guint8) ((i * 37) % 251);
  return rgb;
}

static RefsrResult *
enlarge (const RefsrModel *model, gboolean keep_textures)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *lr_rgb = gradient (7, 5);
  g_autofree guint8 *ref_rgb = gradient (20, 16);
  RefsrImage lr = { lr_rgb, 7, 5, 7 * 3 };
  RefsrImage ref = { ref_rgb, 20, 16, 20 * 3 };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrResult *result;

  options.n_threads = 1;
  options.keep_textures = keep_textures;
  result = refsr_run (model, &lr, &ref, &options, &error);
  g_assert_no_error (error);
  return result;
}

/* What `refsr convert` writes loads back to the same network. */
static void
test_model_save_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("refsr-api-XXXXXX", NULL);
  g_autofree char *saved = g_build_filename (dir, "m.safetensors", NULL);
  g_autofree char *nowhere = g_build_filename (dir, "no", "m.safetensors",
                                               NULL);
  g_autoptr (RefsrModel) model = fixture_model ();
  g_autoptr (RefsrModel) again = NULL;
  g_autoptr (RefsrResult) a = NULL;
  g_autoptr (RefsrResult) b = NULL;
  RefsrConfig c1, c2;

  g_assert_true (refsr_model_save (model, saved, &error));
  g_assert_no_error (error);
  again = refsr_model_load (saved, &error);
  g_assert_no_error (error);
  refsr_model_get_config (model, &c1);
  refsr_model_get_config (again, &c2);
  g_assert_cmpmem (&c1, sizeof c1, &c2, sizeof c2);
  a = enlarge (model, FALSE);
  b = enlarge (again, FALSE);
  g_assert_cmpmem (a->pixels, (gsize) a->width * a->height * 3, b->pixels,
                   (gsize) b->width * b->height * 3);

  g_assert_false (refsr_model_save (model, nowhere, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_IO);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
  g_unlink (saved);
  g_rmdir (dir);
}

/* The tensor dump needs a run that kept its textures; without them it is
 * refused and nothing is written. */
static void
test_result_save_tensors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("refsr-api-XXXXXX", NULL);
  g_autofree char *dump = g_build_filename (dir, "d.safetensors", NULL);
  g_autoptr (RefsrModel) model = fixture_model ();
  g_autoptr (RefsrResult) plain = NULL;
  g_autoptr (RefsrResult) kept = NULL;

  plain = enlarge (model, FALSE);
  g_assert_false (refsr_result_save_tensors (plain, dump, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_assert_false (g_file_test (dump, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  kept = enlarge (model, TRUE);
  g_assert_true (refsr_result_save_tensors (kept, dump, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (dump, G_FILE_TEST_IS_REGULAR));
  g_unlink (dump);
  g_rmdir (dir);
}

/* refsr_resize_rgb as the command's --scale uses it: 4× to 3× and 2×
 * keeps a flat image flat (an antialiasing filter has negative lobes,
 * but its weights sum to one), and the same size gives the same bytes. */
static void
test_resize_rgb (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *flat = g_malloc (40 * 28 * 3);
  g_autofree guint8 *ramp = gradient (40, 28);
  g_autofree guint8 *out = g_malloc (40 * 28 * 3);
  RefsrImage flat_image = { flat, 40, 28, 40 * 3 };
  RefsrImage ramp_image = { ramp, 40, 28, 40 * 3 };

  for (int i = 0; i < 40 * 28 * 3; i++)
    flat[i] = (guint8) (i % 3 == 0 ? 0 : i % 3 == 1 ? 173 : 255);
  for (int scale = 2; scale <= 3; scale++)
    {
      int w = 10 * scale, h = 7 * scale;

      g_assert_true (refsr_resize_rgb (&flat_image, out, w, h, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (out, w * h * 3, flat, w * h * 3);
    }
  g_assert_true (refsr_resize_rgb (&ramp_image, out, 40, 28, &error));
  g_assert_cmpmem (out, 40 * 28 * 3, ramp, 40 * 28 * 3);
  g_assert_false (refsr_resize_rgb (&ramp_image, out, 0, 28, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
}

typedef struct
{
  guint8 *pixels;
  int width, n_tiles;
} Assembled;

static gboolean
assemble (const RefsrTile *tile, void *data, GError **error)
{
  Assembled *a = data;

  refsr_tile_copy_pixels (tile, a->pixels, (gsize) a->width * 3);
  a->n_tiles++;
  return TRUE;
}

/* What the plug-in does: a reference prepared once, the output taken tile
 * by tile; the same pixels as refsr_run with the same tiles. */
static void
test_prepared_reference_and_tiles (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RefsrModel) model = fixture_model ();
  g_autofree guint8 *lr_rgb = gradient (12, 10);
  g_autofree guint8 *ref_rgb = gradient (34, 30);
  g_autofree guint8 *out = g_malloc0 (48 * 40 * 3);
  RefsrImage lr = { lr_rgb, 12, 10, 12 * 3 };
  RefsrImage ref = { ref_rgb, 34, 30, 34 * 3 };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  Assembled assembled = { out, 48, 0 };
  g_autoptr (RefsrReference) prepared = NULL;
  g_autoptr (RefsrResult) whole = NULL, tiled = NULL;
  int w, h;

  options.tile_size = 5;
  whole = refsr_run (model, &lr, &ref, &options, &error);
  g_assert_no_error (error);
  prepared = refsr_reference_new (model, &ref, &options, &error);
  g_assert_no_error (error);
  refsr_reference_get_size (prepared, &w, &h);
  g_assert_cmpint (w, ==, 32);
  g_assert_cmpint (h, ==, 28);
  options.tile_done = assemble;
  options.tile_data = &assembled;
  tiled = refsr_run_with_reference (model, &lr, prepared, &options, &error);
  g_assert_no_error (error);
  g_assert_null (tiled->pixels);
  g_assert_nonnull (tiled->S);
  g_assert_cmpint (assembled.n_tiles, ==, 3 * 2);
  g_assert_cmpmem (out, 48 * 40 * 3, whole->pixels, 48 * 40 * 3);
}

/* What the dialog's preview does: one region against a prepared
 * reference, its pixels those of the whole run there (test-region
 * compares them at length on the demo scene). */
static void
test_region (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RefsrModel) model = fixture_model ();
  g_autofree guint8 *lr_rgb = gradient (12, 10);
  g_autofree guint8 *ref_rgb = gradient (34, 30);
  RefsrImage lr = { lr_rgb, 12, 10, 12 * 3 };
  RefsrImage ref = { ref_rgb, 34, 30, 34 * 3 };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrRegion region = { 3, 2, 5, 4 }, context;
  g_autoptr (RefsrReference) prepared = NULL;
  g_autoptr (RefsrResult) whole = NULL, part = NULL;

  g_assert_true (refsr_region_context (12, 10, &region, &context, &error));
  g_assert_cmpint (context.width, ==, 12);
  whole = refsr_run (model, &lr, &ref, &options, &error);
  g_assert_no_error (error);
  prepared = refsr_reference_new (model, &ref, &options, &error);
  g_assert_no_error (error);
  part = refsr_run_region (model, &lr, &region, prepared, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (part->width, ==, 20);
  g_assert_cmpint (part->height, ==, 16);
  for (int y = 0; y < part->height; y++)
    g_assert_cmpmem (part->pixels + y * 20 * 3, 20 * 3,
                     whole->pixels + ((8 + y) * 48 + 12) * 3, 20 * 3);
}

/* A raised flag stops the run with REFSR_ERROR_CANCELLED. */
static void
test_cancel_flag (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RefsrModel) model = fixture_model ();
  g_autofree guint8 *rgb = gradient (8, 8);
  RefsrImage image = { rgb, 8, 8, 8 * 3 };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  atomic_int cancel = 1;

  options.cancel = &cancel;
  g_assert_null (refsr_run (model, &image, &image, &options, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/api/options-init", test_options_init);
  g_test_add_func ("/api/default-model/environment",
                   test_default_model_from_environment);
  g_test_add_func ("/api/default-model/build-tree",
                   test_default_model_from_build_tree);
  g_test_add_func ("/api/default-model/beside-program",
                   test_default_model_beside_program);
  g_test_add_func ("/api/model-save", test_model_save_round_trip);
  g_test_add_func ("/api/result-save-tensors", test_result_save_tensors);
  g_test_add_func ("/api/cancel", test_cancel_flag);
  g_test_add_func ("/api/region", test_region);
  g_test_add_func ("/api/prepared-reference-and-tiles",
                   test_prepared_reference_and_tiles);
  g_test_add_func ("/api/resize-rgb", test_resize_rgb);
  return g_test_run ();
}
