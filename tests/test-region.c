/* test-region.c — refsr_run_region, the dialog's preview: a region
 * enlarged alone against a prepared reference matches the whole-image run
 * there (within 2/255, S to float rounding), at the image's corners and
 * edges and at odd sizes, against a whole run in one tile and one in
 * tiles; refsr_region_context's rules; what it refuses.
 *
 *   test-region DEMO-DIR   (hr.png, lr.png from refsr-make-demo)
 *
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "image-io.h"

static const char *demo_dir;

typedef struct
{
  RefsrIoImage hr, lr;
  RefsrImage lr_image, ref_image;
  RefsrModel *model;
} Pair;

static void
pair_load (Pair *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hr = g_build_filename (demo_dir, "hr.png", NULL);
  g_autofree char *lr = g_build_filename (demo_dir, "lr.png", NULL);

  g_assert_true (refsr_io_load_image (hr, NULL, &p->hr, &error));
  g_assert_true (refsr_io_load_image (lr, NULL, &p->lr, &error));
  g_assert_no_error (error);
  /* odd sizes, so no tile or region lines up with anything by luck */
  p->lr_image = (RefsrImage) { p->lr.pixels + (5 * p->lr.width + 3) * 3,
                               77, 61, p->lr.width * 3 };
  p->ref_image = (RefsrImage) { p->hr.pixels + (40 * p->hr.width + 24) * 3,
                                196, 172, p->hr.width * 3 };
  p->model = refsr_model_load_default (&error);
  g_assert_no_error (error);
}

static void
pair_clear (Pair *p)
{
  refsr_io_image_clear (&p->hr);
  refsr_io_image_clear (&p->lr);
  refsr_model_free (p->model);
}

static RefsrOptions
exact_options (int tile_size)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;

  options.search = REFSR_SEARCH_EXACT;
  options.n_ref_scales = REFSR_REF_SCALES_AUTO;
  options.tile_size = tile_size;
  return options;
}

/* The largest difference between the region's pixels and the whole
 * run's there; S compared too. */
static int
compare_region (const RefsrResult *whole, const RefsrResult *part,
                const RefsrRegion *region)
{
  int worst = 0;

  g_assert_cmpint (part->width, ==, 4 * region->width);
  g_assert_cmpint (part->height, ==, 4 * region->height);
  g_assert_cmpint (part->lr_width, ==, region->width);
  g_assert_null (part->idx);
  for (int y = 0; y < part->height; y++)
    for (int x = 0; x < part->width * 3; x++)
      {
        int a = part->pixels[(gsize) y * part->width * 3 + x];
        int b = whole->pixels[(gsize) (4 * region->y + y) * whole->width * 3
                              + 4 * region->x * 3 + x];

        worst = MAX (worst, abs (a - b));
      }
  for (int y = 0; y < region->height; y++)
    for (int x = 0; x < region->width; x++)
      g_assert_cmpfloat_with_epsilon (
          part->S[y * region->width + x],
          whole->S[(region->y + y) * whole->lr_width + region->x + x], 1e-4);
  return worst;
}

static void
check_regions (Pair *p, const RefsrResult *whole, RefsrReference *reference,
               const RefsrOptions *options)
{
  static const RefsrRegion regions[] = {
    { 0, 0, 24, 24 },      /* a corner */
    { 53, 37, 24, 24 },    /* the opposite corner */
    { 20, 15, 37, 29 },    /* the middle, odd sizes */
    { 76, 30, 1, 1 },      /* one pixel on the right edge */
    { 0, 0, 77, 61 },      /* the whole image */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (regions); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RefsrResult) part = refsr_run_region (p->model, &p->lr_image,
                                                       &regions[i], reference,
                                                       options, &error);
      int worst;

      g_assert_no_error (error);
      worst = compare_region (whole, part, &regions[i]);
      g_test_message ("region %dx%d at %d, %d: largest difference %d/255",
                      regions[i].width, regions[i].height, regions[i].x,
                      regions[i].y, worst);
      g_assert_cmpint (worst, <=, 2);
    }
}

/* Against a whole run in one tile, and against one in 16-pixel tiles
 * (whose own tile borders differ by up to 1/255 from the whole run's). */
static void
test_matches_whole_run (gconstpointer data)
{
  int tile_size = GPOINTER_TO_INT (data);
  Pair p = { 0 };
  RefsrOptions options = exact_options (tile_size);
  RefsrOptions region_options = exact_options (0);
  g_autoptr (GError) error = NULL;

  pair_load (&p);
  g_autoptr (RefsrResult) whole = refsr_run (p.model, &p.lr_image,
                                             &p.ref_image, &options, &error);
  g_assert_no_error (error);
  g_autoptr (RefsrReference) reference
      = refsr_reference_new_pool (p.model, &p.ref_image, 1, &region_options,
                                  &error);
  g_assert_no_error (error);
  check_regions (&p, whole, reference, &region_options);
  pair_clear (&p);
}

static void
test_context (void)
{
  RefsrRegion context;
  const RefsrRegion middle = { 100, 80, 10, 20 }, corner = { 0, 0, 5, 5 };

  g_assert_true (refsr_region_context (300, 200, &middle, &context, NULL));
  /* grown alike on every side, inside the image */
  g_assert_cmpint (middle.x - context.x, ==, middle.y - context.y);
  g_assert_cmpint (context.width - middle.width, ==,
                   2 * (middle.x - context.x));
  g_assert_cmpint (middle.x - context.x, >=, 16);
  g_assert_true (refsr_region_context (300, 200, &corner, &context, NULL));
  g_assert_cmpint (context.x, ==, 0);
  g_assert_cmpint (context.y, ==, 0);
  g_assert_cmpint (context.width, <, 5 + 2 * 16 + 8);
}

static gboolean
ignore_tile (const RefsrTile *tile, void *data, GError **error)
{
  return TRUE;
}

static void
test_refusals (void)
{
  static const RefsrRegion bad[] = {
    { 0, 0, 0, 5 }, { -1, 0, 5, 5 }, { 0, 0, 301, 5 }, { 296, 0, 5, 5 },
    { 0, 196, 5, 5 }, { G_MAXINT, 0, 5, 5 }, { 0, 0, G_MAXINT, 5 },
  };
  Pair p = { 0 };
  RefsrOptions options = exact_options (0);
  RefsrRegion context;
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (refsr_region_context (300, 200, &bad[i], &context,
                                            &error));
      g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
      g_clear_error (&error);
    }
  pair_load (&p);
  g_autoptr (RefsrReference) reference
      = refsr_reference_new_pool (p.model, &p.ref_image, 1, &options, &error);
  g_assert_no_error (error);
  options.tile_done = ignore_tile;
  g_assert_null (refsr_run_region (p.model, &p.lr_image,
                                   &(RefsrRegion) { 0, 0, 8, 8 }, reference,
                                   &options, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  options.tile_done = NULL;
  g_assert_null (refsr_run_region (p.model, &p.lr_image,
                                   &(RefsrRegion) { 70, 0, 8, 8 }, reference,
                                   &options, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  pair_clear (&p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: test-region DEMO-DIR\n");
      return 2;
    }
  demo_dir = argv[1];
  refsr_io_init ();
  g_test_add_func ("/region/context", test_context);
  g_test_add_func ("/region/refusals", test_refusals);
  g_test_add_data_func ("/region/matches-whole-run", GINT_TO_POINTER (0),
                        test_matches_whole_run);
  g_test_add_data_func ("/region/matches-tiled-run", GINT_TO_POINTER (16),
                        test_matches_whole_run);
  return g_test_run ();
}
