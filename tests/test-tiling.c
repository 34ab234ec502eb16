/* test-tiling.c — the LR image in tiles against the whole image at once:
 * identical hard-attention indices and S (the search margin is exact),
 * and an output within 1/255 (PSNR >= 70 dB) at every tile size >= 32,
 * on the demo pair and on photos of Set14 (from ../shared/datasets); odd
 * sizes, tiles smaller than the margin, an LR of 5×7, a reference smaller
 * than a tile; the reference built in strips equal to the reference built
 * whole; tiles handed out as they are done, a cancel between them, a
 * prepared reference, a spilled reference, images larger than a tile.
 *
 *   test-tiling DEMO-DIR [--photos]   (lr.png, ref.png from refsr-make-demo;
 *                                      --photos: the Set14 photos too)
 *
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "fixture.h"
#include "image-io.h"
#include "reference.h"

static const char *demo_dir;

#define DEMO_LR 64
#define DEMO_REF 256

typedef struct
{
  RefsrImage lr, ref;
  RefsrIoImage lr_file, ref_file;
} Pair;

static void
load_demo (Pair *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *lr = g_build_filename (demo_dir, "lr.png", NULL);
  g_autofree char *ref = g_build_filename (demo_dir, "ref.png", NULL);

  g_assert_true (refsr_io_load_image (lr, NULL, &p->lr_file, &error));
  g_assert_true (refsr_io_load_image (ref, NULL, &p->ref_file, &error));
  /* 64×64 of the 96×96 LR and 256×256 of the reference: enough for tiles
   * of 32 and 48 with their margins, cheap enough for every build */
  g_assert_cmpint (p->lr_file.width, >=, DEMO_LR);
  g_assert_cmpint (p->ref_file.width, >=, DEMO_REF);
  p->lr = (RefsrImage) { p->lr_file.pixels, DEMO_LR, DEMO_LR,
                         p->lr_file.width * 3 };
  p->ref = (RefsrImage) { p->ref_file.pixels, DEMO_REF, DEMO_REF,
                          p->ref_file.width * 3 };
}

static void
pair_clear (Pair *p)
{
  refsr_io_image_clear (&p->lr_file);
  refsr_io_image_clear (&p->ref_file);
}

static RefsrResult *
run_tiled (const RefsrModel *model, const RefsrImage *lr,
           const RefsrImage *ref, int tile)
{
  g_autoptr (GError) error = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrResult *r;

  options.n_threads = 2;
  options.keep_textures = TRUE;
  options.tile_size = tile;
  r = refsr_run (model, lr, ref, &options, &error);
  g_assert_no_error (error);
  return r;
}

/* PSNR over the 8-bit outputs and the largest difference in 1/255. */
static double
compare_outputs (const RefsrResult *a, const RefsrResult *b, int *max_diff)
{
  gsize n = (gsize) a->width * a->height * 3;
  double sq = 0.0;

  *max_diff = 0;
  for (gsize i = 0; i < n; i++)
    {
      int d = abs ((int) a->pixels[i] - (int) b->pixels[i]);
      *max_diff = MAX (*max_diff, d);
      sq += (double) d * d;
    }
  return sq == 0.0 ? INFINITY : 10.0 * log10 (255.0 * 255.0 * n / sq);
}

static void
check_tiles (const RefsrModel *model, const RefsrImage *lr,
             const RefsrImage *ref, const int *tiles, int n_tiles,
             int min_exact_tile)
{
  g_autoptr (RefsrResult) whole = run_tiled (model, lr, ref, 0);
  gsize p = (gsize) lr->width * lr->height;

  for (int i = 0; i < n_tiles; i++)
    {
      g_autoptr (RefsrResult) tiled = run_tiled (model, lr, ref, tiles[i]);
      int max_diff;
      double psnr = compare_outputs (whole, tiled, &max_diff);

      gsize idx_diff = 0;
      double s_diff = 0.0;

      for (gsize k = 0; k < p; k++)
        {
          idx_diff += whole->idx[k] != tiled->idx[k];
          s_diff = MAX (s_diff, fabs (whole->S[k] - tiled->S[k]));
        }
      g_test_message ("LR %dx%d, tile %d: PSNR %.1f dB, max diff %d/255; "
                      "%" G_GSIZE_FORMAT " indices differ, S by %.3g",
                      lr->width, lr->height, tiles[i], psnr, max_diff,
                      idx_diff, s_diff);
      /* Identical indices; S equal up to one float rounding, which a
       * different GEMM shape can give (measured at tiles of 3). */
      g_assert_cmpuint (idx_diff, ==, 0);
      g_assert_cmpfloat (s_diff, <=, 1.2e-7);
      if (tiles[i] >= min_exact_tile)
        {
          g_assert_cmpint (max_diff, <=, 1);
          g_assert_cmpfloat (psnr, >=, 70.0);
        }
    }
}

/* The demo pair (a crop of it, see load_demo) with the
 * built-in model and with the default TTSR configuration. */
static void
test_demo (gconstpointer weights)
{
  static const int tiles[] = { 32, 48 };
  g_autoptr (RefsrModel) model = NULL;
  g_autofree char *path = NULL;
  Pair pair;

  if (g_str_has_prefix (weights, "fixture:"))
    model = fixture_model ((const char *) weights + strlen ("fixture:"));
  else
    {
      path = g_build_filename (REFSR_TEST_SOURCE_ROOT, weights, NULL);
      model = refsr_model_load (path, NULL);
      g_assert_nonnull (model);
    }
  load_demo (&pair);
  check_tiles (model, &pair.lr, &pair.ref, tiles, G_N_ELEMENTS (tiles), 32);
  pair_clear (&pair);
}

/* Real photos (Set14, read from ../shared/datasets, never committed): a
 * 256² crop reduced 4× is the LR, another 256² crop of the same photo the
 * reference; TTSR's default configuration, tiles of 32 and 48 against
 * the whole image. */
static void
test_real_photo (gconstpointer name)
{
  static const int tiles[] = { 32, 48 };
  g_autoptr (RefsrModel) model = fixture_model ("weights-16+16+8+4-seed2.safetensors");
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (REFSR_TEST_SOURCE_ROOT, "..",
                                            "shared", "datasets", "set14",
                                            name, NULL);
  g_autofree guint8 *lr_rgb = g_malloc (64 * 64 * 3);
  RefsrIoImage photo = { 0 };
  RefsrImage hr, ref, lr = { lr_rgb, 64, 64, 64 * 3 };
  gsize stride;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("the Set14 photos of ../shared/datasets are missing");
      return;
    }
  g_assert_true (refsr_io_load_image (path, NULL, &photo, &error));
  g_assert_cmpint (photo.width, >=, 480);
  g_assert_cmpint (photo.height, >=, 384);
  stride = (gsize) photo.width * 3;
  hr = (RefsrImage) { photo.pixels, 256, 256, (int) stride };
  ref = (RefsrImage) { photo.pixels + (gsize) (photo.height - 256) * stride
                           + (gsize) (photo.width - 256) * 3,
                       256, 256, (int) stride };
  g_assert_true (refsr_resize_rgb (&hr, lr_rgb, 64, 64, &error));
  check_tiles (model, &lr, &ref, tiles, G_N_ELEMENTS (tiles), 32);
  refsr_io_image_clear (&photo);
}

/* Small and odd: tiles far smaller than the margins, a 5×7 LR, and a
 * reference smaller than a tile.  Indices and S must still be identical;
 * the pixels only have to exist. */
static void
test_small_and_odd (void)
{
  static const int tiles[] = { 3, 8, 16 };
  static const int tiny_tiles[] = { 1, 3 };
  static const int one_tile[] = { 8 };
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  Fixture *f = fixture_open ("case-b.safetensors");
  RefsrImage lr = fixture_rgb (f, "lr_u8"), ref = fixture_rgb (f, "ref_u8");
  RefsrImage tiny_lr = { lr.pixels, 5, 7, lr.rowstride };
  RefsrImage tiny_ref = { ref.pixels, 12, 8, ref.rowstride };

  check_tiles (model, &lr, &ref, tiles, G_N_ELEMENTS (tiles), G_MAXINT);
  check_tiles (model, &tiny_lr, &ref, tiny_tiles, G_N_ELEMENTS (tiny_tiles),
               G_MAXINT);
  check_tiles (model, &lr, &tiny_ref, one_tile, 1, G_MAXINT);
  fixture_close (f);
}

/* The reference's features built in strips equal those built whole. */
static void
test_reference_strips (void)
{
  static const int strips[] = { 4, 8, 12, 20, 36 };
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  RefsrModel *m = model;
  RefsrExec exec = { .n_threads = 2 };
  RefsrReferenceData whole;
  Pair pair;

  load_demo (&pair);
  g_assert_true (refsr_reference_data_build (&whole, &m->lte,
                                             pair.ref.pixels, pair.ref.width,
                                             pair.ref.height,
                                             pair.ref.rowstride, 0, NULL,
                                             NULL, &exec, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (strips); i++)
    {
      RefsrReferenceData striped;
      const RefsrTensor *a[] = { &whole.key, &whole.value.lv1,
                                 &whole.value.lv2, &whole.value.lv3 };
      const RefsrTensor *b[] = { &striped.key, &striped.value.lv1,
                                 &striped.value.lv2, &striped.value.lv3 };

      g_assert_true (refsr_reference_data_build (&striped, &m->lte,
                                                 pair.ref.pixels,
                                                 pair.ref.width,
                                                 pair.ref.height,
                                                 pair.ref.rowstride,
                                                 strips[i], NULL, NULL,
                                                 &exec, NULL));
      for (gsize k = 0; k < G_N_ELEMENTS (a); k++)
        g_assert_cmpmem (a[k]->data, refsr_tensor_numel (a[k]) * sizeof (float),
                         b[k]->data, refsr_tensor_numel (b[k]) * sizeof (float));
      refsr_reference_data_clear (&striped);
    }
  refsr_reference_data_clear (&whole);
  pair_clear (&pair);
}

/* The tile size follows the memory budget: a budget too small for any
 * tile is refused before the run, with the numbers; a budget that forces
 * tiles gives the run of that tile size. */
static void
test_budget (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrEstimate whole, tight;
  RefsrConfig config;
  Pair pair;

  load_demo (&pair);
  refsr_model_get_config (model, &config);
  g_assert_true (refsr_estimate (&config, DEMO_LR, DEMO_LR, DEMO_REF,
                                 DEMO_REF, NULL, &whole, &error));
  g_assert_cmpint (whole.tile_size, ==, DEMO_LR);

  options.max_memory = 1 << 20;
  g_assert_false (refsr_estimate (&config, DEMO_LR, DEMO_LR, DEMO_REF,
                                  DEMO_REF, &options, &tight, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "budget"));
  g_clear_error (&error);
  g_assert_null (refsr_run (model, &pair.lr, &pair.ref, &options, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY);
  g_clear_error (&error);

  /* halfway between the smallest tiles' need and the whole image's */
  options.max_memory = 0;
  options.tile_size = 16;
  g_assert_true (refsr_estimate (&config, DEMO_LR, DEMO_LR, DEMO_REF,
                                 DEMO_REF, &options, &tight, &error));
  options.tile_size = 0;
  options.max_memory = (tight.peak_bytes + whole.peak_bytes) / 2;
  g_assert_true (refsr_estimate (&config, DEMO_LR, DEMO_LR, DEMO_REF,
                                 DEMO_REF, &options, &tight, &error));
  g_test_message ("budget %.1f MB: tiles of %d (whole image %.1f MB)",
                  options.max_memory / 1048576.0, tight.tile_size,
                  whole.peak_bytes / 1048576.0);
  g_assert_cmpint (tight.tile_size, >=, 16);
  g_assert_cmpint (tight.tile_size, <, DEMO_LR);
  g_assert_cmpuint (tight.peak_bytes, <=, options.max_memory);
  {
    g_autoptr (RefsrResult) budgeted = refsr_run (model, &pair.lr, &pair.ref,
                                                  &options, &error);
    g_autoptr (RefsrResult) tiled = run_tiled (model, &pair.lr, &pair.ref,
                                               tight.tile_size);
    g_assert_no_error (error);
    gsize n = (gsize) budgeted->width * budgeted->height * 3;

    g_assert_cmpmem (budgeted->pixels, n, tiled->pixels, n);
  }
  pair_clear (&pair);
}

/* Tiles handed to the caller as they are done. */
typedef struct
{
  guint8 *pixels;      /* the whole output, assembled */
  float *sr;
  int width, height;
  int n_tiles, next_x, next_y, row_height;
  int cancel_after;    /* raise cancel after this many tiles (0: never) */
  atomic_int cancel;
  gboolean fail;       /* refuse the first tile */
} Collector;

static gboolean
collect_tile (const RefsrTile *t, void *data, GError **error)
{
  Collector *c = data;
  gsize plane = (gsize) c->width * c->height;

  if (c->fail)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC,
                           "disk full");
      return FALSE;
    }
  /* raster order: left to right, then the next row of tiles */
  if (t->x == 0 && c->n_tiles > 0)
    {
      c->next_y += c->row_height;
      c->next_x = 0;
    }
  g_assert_cmpint (t->x, ==, c->next_x);
  g_assert_cmpint (t->y, ==, c->next_y);
  g_assert_cmpint (t->x + t->width, <=, c->width);
  g_assert_cmpint (t->y + t->height, <=, c->height);
  c->next_x += t->width;
  c->row_height = t->height;
  for (int y = 0; y < t->height; y++)
    {
      memcpy (c->pixels + ((gsize) (t->y + y) * c->width + t->x) * 3,
              t->pixels + (gsize) y * t->width * 3, (gsize) t->width * 3);
      for (int ch = 0; ch < 3; ch++)
        memcpy (c->sr + ch * plane + (gsize) (t->y + y) * c->width + t->x,
                t->sr + ((gsize) ch * t->height + y) * t->width,
                (gsize) t->width * sizeof (float));
    }
  if (++c->n_tiles == c->cancel_after)
    atomic_store (&c->cancel, 1);
  return TRUE;
}

static void
collector_init (Collector *c, const RefsrImage *lr, RefsrOptions *options)
{
  memset (c, 0, sizeof *c);
  c->width = 4 * lr->width;
  c->height = 4 * lr->height;
  c->pixels = g_malloc0 ((gsize) c->width * c->height * 3);
  c->sr = g_malloc0 ((gsize) c->width * c->height * 3 * sizeof (float));
  options->tile_done = collect_tile;
  options->tile_data = c;
  options->cancel = &c->cancel;
}

static void
collector_clear (Collector *c)
{
  g_free (c->pixels);
  g_free (c->sr);
}

/* The output handed out tile by tile, in raster order, each part once, is
 * the output of the same run kept whole, bit for bit; the result then
 * holds no pixels. */
static void
test_streamed (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  Fixture *f = fixture_open ("case-b.safetensors");
  RefsrImage lr = fixture_rgb (f, "lr_u8"), ref = fixture_rgb (f, "ref_u8");
  static const int tiles[] = { 13, 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (tiles); i++)
    {
      RefsrOptions options = REFSR_OPTIONS_INIT;
      Collector c;
      g_autoptr (RefsrResult) kept = NULL, streamed = NULL;
      gsize n = (gsize) 16 * lr.width * lr.height * 3;
      int nx, ny;

      options.n_threads = 2;
      options.tile_size = tiles[i];
      kept = refsr_run (model, &lr, &ref, &options, &error);
      g_assert_no_error (error);
      collector_init (&c, &lr, &options);
      streamed = refsr_run (model, &lr, &ref, &options, &error);
      g_assert_no_error (error);
      g_assert_null (streamed->pixels);
      g_assert_null (streamed->sr);
      g_assert_cmpmem (streamed->S, (gsize) lr.width * lr.height * 4,
                       kept->S, (gsize) lr.width * lr.height * 4);
      g_assert_cmpmem (c.pixels, n, kept->pixels, n);
      g_assert_cmpmem (c.sr, n * sizeof (float), kept->sr,
                       n * sizeof (float));
      nx = tiles[i] > 0 ? (lr.width + tiles[i] - 1) / tiles[i] : 1;
      ny = tiles[i] > 0 ? (lr.height + tiles[i] - 1) / tiles[i] : 1;
      g_assert_cmpint (c.n_tiles, ==, nx * ny);
      g_assert_cmpint (c.next_y + c.row_height, ==, c.height);
      collector_clear (&c);
    }
  fixture_close (f);
}

/* A cancel raised after the first tile stops the run before the next one
 * is handed out; a tile the caller cannot store stops it with the
 * caller's error. */
static void
test_cancel_during_tiles (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  Fixture *f = fixture_open ("case-b.safetensors");
  RefsrImage lr = fixture_rgb (f, "lr_u8"), ref = fixture_rgb (f, "ref_u8");
  RefsrOptions options = REFSR_OPTIONS_INIT;
  Collector c;

  options.tile_size = 13;
  collector_init (&c, &lr, &options);
  c.cancel_after = 1;
  g_assert_null (refsr_run (model, &lr, &ref, &options, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED);
  g_assert_cmpint (c.n_tiles, ==, 1);
  g_clear_error (&error);
  collector_clear (&c);

  collector_init (&c, &lr, &options);
  c.fail = TRUE;
  g_assert_null (refsr_run (model, &lr, &ref, &options, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
  collector_clear (&c);
  fixture_close (f);
}

/* A reference prepared once serves several runs, each equal to refsr_run
 * with the reference given whole; a model other than its own is refused. */
static void
test_prepared_reference (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (RefsrModel) other = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  Fixture *f = fixture_open ("case-b.safetensors");
  RefsrImage lr = fixture_rgb (f, "lr_u8"), ref = fixture_rgb (f, "ref_u8");
  RefsrImage crop = { lr.pixels, lr.width - 3, lr.height - 2, lr.rowstride };
  const RefsrImage *lrs[] = { &lr, &crop };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  g_autoptr (RefsrReference) prepared = NULL;
  int w, h;

  options.n_threads = 2;
  prepared = refsr_reference_new (model, &ref, &options, &error);
  g_assert_no_error (error);
  refsr_reference_get_size (prepared, &w, &h);
  g_assert_cmpint (w, ==, ref.width / 4 * 4);
  g_assert_cmpint (h, ==, ref.height / 4 * 4);
  for (gsize i = 0; i < G_N_ELEMENTS (lrs); i++)
    {
      g_autoptr (RefsrResult) once = refsr_run (model, lrs[i], &ref,
                                                &options, &error);
      g_autoptr (RefsrResult) again
          = refsr_run_with_reference (model, lrs[i], prepared, &options,
                                      &error);
      gsize n = (gsize) once->width * once->height * 3;

      g_assert_no_error (error);
      g_assert_cmpmem (again->pixels, n, once->pixels, n);
      g_assert_cmpmem (again->sr, n * sizeof (float), once->sr,
                       n * sizeof (float));
    }
  g_assert_null (refsr_run_with_reference (other, &lr, prepared, &options,
                                           &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  fixture_close (f);
}

/* A reference whose features take more than half the budget goes to a
 * temporary file; the run gives the output of the same tiles in memory,
 * bit for bit, and leaves nothing in TMPDIR. */
static void
test_spilled_reference (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *tmp = g_build_filename (cwd, "spill-tmp-XXXXXX", NULL);
  int side = 480;
  g_autofree guint8 *pixels = g_malloc ((gsize) side * side * 3);
  RefsrImage ref = { pixels, side, side, side * 3 };
  RefsrImage lr = { pixels + (gsize) 100 * side * 3 + 300, 24, 20,
                    side * 3 };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  GRand *rand = g_rand_new_with_seed (9);
  RefsrConfig config;
  RefsrEstimate e;
  GDir *dir;

  for (gsize i = 0; i < (gsize) side * side * 3; i++)
    pixels[i] = (guint8) (128 + 60 * sin (0.1 * (i / 3 % side) + i % 3)
                          + g_rand_int_range (rand, -40, 40));
  g_rand_free (rand);
  g_assert_nonnull (g_mkdtemp (tmp));
  g_setenv ("TMPDIR", tmp, TRUE);
  options.n_threads = 2;
  options.tile_size = 16;
  options.max_memory = (guint64) (1.9 * refsr_reference_data_bytes (side,
                                                                   side));
  refsr_model_get_config (model, &config);
  refsr_estimate (&config, lr.width, lr.height, side, side, &options, &e,
                  &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e.peak_bytes, <=, options.max_memory);
  {
    g_autoptr (RefsrResult) spilled = refsr_run (model, &lr, &ref, &options,
                                                 &error);
    g_autoptr (RefsrResult) kept = NULL;
    gsize n;

    g_assert_no_error (error);
    options.max_memory = 0;
    kept = refsr_run (model, &lr, &ref, &options, &error);
    g_assert_no_error (error);
    n = (gsize) kept->width * kept->height * 3;
    g_assert_cmpmem (spilled->pixels, n, kept->pixels, n);
  }
  dir = g_dir_open (tmp, 0, NULL);
  g_assert_null (g_dir_read_name (dir));
  g_dir_close (dir);
  g_rmdir (tmp);
  g_unsetenv ("TMPDIR");
}

/* Images larger than the largest tile are cut into tiles even without a
 * budget, so every map stays int-indexed; the LR's old 2-megapixel cap is
 * gone; keeping the textures of such an image is refused up front. */
static void
test_large_images (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrEstimate e;
  RefsrConfig config;
  int w = REFSR_MAX_TILE_SIZE + 100, h = 3000;
  g_autofree guint8 *pixels = g_malloc0 ((gsize) w
                                         * (REFSR_MAX_TILE_SIZE + 1) * 3);
  RefsrImage lr = { pixels, w, REFSR_MAX_TILE_SIZE + 1, w * 3 };
  RefsrImage ref = { pixels, 64, 64, w * 3 };

  refsr_model_get_config (model, &config);
  g_assert_true (refsr_estimate (&config, w, h, 1000, 1000, NULL, &e,
                                 &error));
  g_assert_no_error (error);
  g_assert_cmpint (e.tile_size, ==, REFSR_MAX_TILE_SIZE);
  g_assert_cmpint ((gint64) w * h, >, (gint64) G_MAXINT / 1024);
  g_assert_cmpint ((gint64) w * h, <=, REFSR_MAX_LR_PIXELS);

  options.keep_textures = TRUE;
  g_assert_null (refsr_run (model, &lr, &ref, &options, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  refsr_io_init ();
  demo_dir = argc > 1 ? argv[1] : ".";
  g_test_add_data_func ("/tiling/demo/built-in-model",
                        "data/refsr-default.safetensors", test_demo);
  g_test_add_data_func ("/tiling/demo/ttsr-16+16+8+4",
                        "fixture:weights-16+16+8+4-seed2.safetensors",
                        test_demo);
  if (argc > 2 && strcmp (argv[2], "--photos") == 0)
    {
      /* a test of its own, in the fast builds only (tests/meson.build) */
      g_test_add_data_func ("/tiling/real-photo/baboon", "baboon.png",
                            test_real_photo);
      g_test_add_data_func ("/tiling/real-photo/barbara", "barbara.png",
                            test_real_photo);
      g_test_add_data_func ("/tiling/real-photo/zebra", "zebra.png",
                            test_real_photo);
    }
  g_test_add_func ("/tiling/small-and-odd", test_small_and_odd);
  g_test_add_func ("/tiling/reference-strips", test_reference_strips);
  g_test_add_func ("/tiling/budget", test_budget);
  g_test_add_func ("/tiling/streamed", test_streamed);
  g_test_add_func ("/tiling/cancel-during-tiles", test_cancel_during_tiles);
  g_test_add_func ("/tiling/prepared-reference", test_prepared_reference);
  g_test_add_func ("/tiling/large-images", test_large_images);
  g_test_add_func ("/tiling/spilled-reference", test_spilled_reference);
  return g_test_run ();
}
