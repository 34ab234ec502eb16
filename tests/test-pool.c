/* test-pool.c — a pool of references and reference scales, with the
 * shipped model on the demo scene (refsr-make-demo): one reference given
 * twice is the single-reference run bit for bit; two references each
 * holding half of the texture the LR image needs beat either alone; a
 * reference shot at 2× zoom gains from --ref-scales' reduced copy; the
 * same bytes with 1 and 2 threads; a prepared pool; the scale rules.
 *
 *   test-pool DEMO-DIR   (hr.png, lr.png, tele.png from refsr-make-demo)
 *
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "fixture.h"
#include "image-io.h"
#include "metrics.h"

static const char *demo_dir;

typedef struct
{
  RefsrIoImage hr, lr, tele;
  RefsrImage hr_image, lr_image, tele_image;
  RefsrModel *model;
} Demo;

static RefsrImage
as_image (const RefsrIoImage *file)
{
  return (RefsrImage) { file->pixels, file->width, file->height,
                        file->width * 3 };
}

static void
demo_load (Demo *d)
{
  RefsrIoImage *files[] = { &d->hr, &d->lr, &d->tele };
  const char *names[] = { "hr.png", "lr.png", "tele.png" };
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < 3; i++)
    {
      g_autofree char *path = g_build_filename (demo_dir, names[i], NULL);

      g_assert_true (refsr_io_load_image (path, NULL, files[i], &error));
      g_assert_no_error (error);
    }
  /* LR 64×64 from (16, 16): every test runs in seconds, and the view of
   * the tele shot (the middle half of hr.png's) stays inside it */
  d->lr_image = (RefsrImage) { d->lr.pixels + (16 * d->lr.width + 16) * 3,
                               64, 64, d->lr.width * 3 };
  d->hr_image = (RefsrImage) { d->hr.pixels + (64 * d->hr.width + 64) * 3,
                               256, 256, d->hr.width * 3 };
  d->tele_image = as_image (&d->tele);
  d->model = refsr_model_load_default (&error);
  g_assert_no_error (error);
}

static void
demo_clear (Demo *d)
{
  refsr_io_image_clear (&d->hr);
  refsr_io_image_clear (&d->lr);
  refsr_io_image_clear (&d->tele);
  refsr_model_free (d->model);
}

static RefsrOptions
options_with_scales (int n, const double *scales, int threads)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;

  options.n_threads = threads;
  options.keep_textures = TRUE;
  options.search = REFSR_SEARCH_EXACT;
  options.n_ref_scales = n;
  for (int i = 0; i < n; i++)
    options.ref_scales[i] = scales[i];
  return options;
}

static RefsrResult *
run_pool (const Demo *d, const RefsrImage *refs, int n_refs,
          const RefsrOptions *options)
{
  g_autoptr (GError) error = NULL;
  RefsrResult *r = refsr_run_pool (d->model, &d->lr_image, refs, n_refs,
                                   options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static double
psnr_y (const Demo *d, const RefsrResult *r)
{
  RefsrImage sr = { r->pixels, r->width, r->height, r->width * 3 };

  return metrics_psnr_y (&d->hr_image, &sr);
}

static void
assert_same_result (const RefsrResult *a, const RefsrResult *b)
{
  gsize n = (gsize) a->lr_width * a->lr_height;

  g_assert_cmpmem (a->pixels, (gsize) a->width * a->height * 3, b->pixels,
                   (gsize) b->width * b->height * 3);
  g_assert_cmpmem (a->S, n * sizeof (float), b->S, n * sizeof (float));
  g_assert_cmpmem (a->idx, n * sizeof (gint64), b->idx, n * sizeof (gint64));
}

/* A reference given twice: every tie goes to the first, so the pool is
 * the single reference's run exactly. */
static void
test_duplicate_reference (void)
{
  Demo d;
  RefsrOptions options = options_with_scales (0, NULL, 2);

  demo_load (&d);
  RefsrImage twice[] = { d.tele_image, d.tele_image };
  g_autoptr (RefsrResult) one = refsr_run (d.model, &d.lr_image,
                                           &d.tele_image, &options, NULL);
  g_autoptr (RefsrResult) pool = run_pool (&d, twice, 2, &options);

  g_assert_nonnull (one);
  assert_same_result (one, pool);
  demo_clear (&d);
}

/* The top and the bottom half of the ground truth as two references:
 * the pool finds each position's texture in one of them, so it beats
 * either half alone, and the top rows take the top reference's. */
static void
test_two_halves (void)
{
  Demo d;
  RefsrOptions options = options_with_scales (0, NULL, 2);

  demo_load (&d);
  RefsrImage top = d.hr_image, bottom = d.hr_image;

  top.height = bottom.height = d.hr_image.height / 2;
  bottom.pixels += (gsize) top.height * top.rowstride;
  RefsrImage both[] = { top, bottom };
  g_autoptr (RefsrResult) r_top = run_pool (&d, &top, 1, &options);
  g_autoptr (RefsrResult) r_bottom = run_pool (&d, &bottom, 1, &options);
  g_autoptr (RefsrResult) r_both = run_pool (&d, both, 2, &options);
  double p_top = psnr_y (&d, r_top), p_bottom = psnr_y (&d, r_bottom);
  double p_both = psnr_y (&d, r_both);
  gint64 top_keys = (gint64) (top.width / 4) * (top.height / 4);
  int from_top = 0, rows = d.lr_image.height / 4;

  g_test_message ("PSNR-Y: top half %.2f dB, bottom half %.2f dB, both "
                  "%.2f dB", p_top, p_bottom, p_both);
  g_assert_cmpfloat (p_both, >, MAX (p_top, p_bottom) + 0.3);
  /* the top quarter of the LR image lies in the top reference */
  for (int p = 0; p < rows * d.lr_image.width; p++)
    from_top += r_both->idx[p] < top_keys;
  g_assert_cmpint (from_top, >, 0.9 * rows * d.lr_image.width);
  demo_clear (&d);
}

/* The tele shot sees the pebbles twice as large as the LR image's
 * ground truth: reduced by 2 in the pool, its texture matches. */
static void
test_zoomed_reference (void)
{
  static const double scale_one = 1.0, one_and_half[] = { 1.0, 0.5 };
  Demo d;
  RefsrOptions as_given = options_with_scales (1, &scale_one, 2);
  RefsrOptions with_half = options_with_scales (2, one_and_half, 2);
  RefsrOptions automatic = options_with_scales (0, NULL, 2);

  automatic.n_ref_scales = REFSR_REF_SCALES_AUTO;
  demo_load (&d);
  g_autoptr (RefsrResult) r1 = run_pool (&d, &d.tele_image, 1, &as_given);
  g_autoptr (RefsrResult) r2 = run_pool (&d, &d.tele_image, 1, &with_half);
  g_autoptr (RefsrResult) r3 = run_pool (&d, &d.tele_image, 1, &automatic);
  double p1 = psnr_y (&d, r1), p2 = psnr_y (&d, r2), p3 = psnr_y (&d, r3);

  g_test_message ("PSNR-Y with the 2x tele reference: scale 1 %.2f dB, "
                  "scales 1 and 0.5 %.2f dB, auto %.2f dB", p1, p2, p3);
  g_assert_cmpfloat (p2, >, p1 + 0.2);
  g_assert_cmpfloat (p3, >, p1 + 0.2);
  demo_clear (&d);
}

/* Several references at several scales: the same bytes on 1 and 2
 * threads, and a pool prepared once gives what refsr_run_pool gives. */
static void
test_threads_and_prepared (void)
{
  Demo d;
  RefsrOptions one = options_with_scales (0, NULL, 1);
  RefsrOptions two = options_with_scales (0, NULL, 2);
  g_autoptr (GError) error = NULL;

  one.n_ref_scales = two.n_ref_scales = REFSR_REF_SCALES_AUTO;
  demo_load (&d);
  RefsrImage refs[] = { d.tele_image, { d.hr.pixels, 120, 100,
                                        d.hr.width * 3 } };
  g_autoptr (RefsrResult) r1 = run_pool (&d, refs, 2, &one);
  g_autoptr (RefsrResult) r2 = run_pool (&d, refs, 2, &two);
  g_autoptr (RefsrReference) prepared
      = refsr_reference_new_pool (d.model, refs, 2, &two, &error);

  g_assert_no_error (error);
  /* the tele at 1, 0.71, 0.5; 120×100 at 1 and 0.71 (0.5 is under 64) */
  g_assert_cmpint (refsr_reference_get_count (prepared), ==, 5);
  assert_same_result (r1, r2);
  g_autoptr (RefsrResult) r3 = refsr_run_with_reference (d.model, &d.lr_image,
                                                         prepared, &two,
                                                         &error);
  g_assert_no_error (error);
  assert_same_result (r2, r3);
  demo_clear (&d);
}

static void
test_scale_rules (void)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;
  double scales[REFSR_MAX_REF_SCALES];
  static const struct
  {
    int n;
    double scales[REFSR_MAX_REF_SCALES];
    const char *message;
  } bad[] = {
    { 1, { 0.0 }, "not in (0, 1]" },
    { 1, { 1.5 }, "not in (0, 1]" },
    { 2, { 0.5, 0.5 }, "given twice" },
    { 9, { 1.0 }, "between 1 and 8" },
    { 1, { 0.01 }, "smaller than 4 pixels" },
  };

  g_assert_cmpint (refsr_ref_scales (NULL, 100, 100, scales, NULL), ==, 1);
  g_assert_cmpfloat (scales[0], ==, 1.0);
  options.n_ref_scales = REFSR_REF_SCALES_AUTO;
  g_assert_cmpint (refsr_ref_scales (&options, 1000, 800, scales, NULL), ==,
                   3);
  g_assert_cmpfloat (scales[2], ==, 0.5);
  /* 100×100 at 0.5 would be 50 pixels a side: left out */
  g_assert_cmpint (refsr_ref_scales (&options, 100, 100, scales, NULL), ==,
                   2);
  /* named, it stays while the reference is 4×4 or more */
  options.n_ref_scales = 1;
  options.ref_scales[0] = 0.1;
  g_assert_cmpint (refsr_ref_scales (&options, 100, 100, scales, NULL), ==,
                   1);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      options.n_ref_scales = bad[i].n;
      memcpy (options.ref_scales, bad[i].scales, sizeof options.ref_scales);
      g_assert_cmpint (refsr_ref_scales (&options, 300, 300, scales, &error),
                       ==, 0);
      g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
      g_assert_nonnull (strstr (error->message, bad[i].message));
    }
}

/* The estimate counts every member: two references cost more than one,
 * scales more than none. */
static void
test_estimate (void)
{
  RefsrConfig config = { 64, { 16, 16, 8, 4 } };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrSize refs[] = { { 480, 480 }, { 480, 480 } };
  RefsrEstimate one, two, scaled;

  g_assert_true (refsr_estimate_pool (&config, 120, 120, refs, 1, &options,
                                      &one, NULL));
  g_assert_true (refsr_estimate_pool (&config, 120, 120, refs, 2, &options,
                                      &two, NULL));
  options.n_ref_scales = REFSR_REF_SCALES_AUTO;
  g_assert_true (refsr_estimate_pool (&config, 120, 120, refs, 1, &options,
                                      &scaled, NULL));
  g_assert_cmpfloat (two.flops, >, 1.15 * one.flops);
  g_assert_cmpfloat (scaled.flops, >, 1.1 * one.flops);
  g_assert_cmpuint (two.peak_bytes, >, one.peak_bytes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: test-pool DEMO-DIR\n");
      return 2;
    }
  demo_dir = argv[1];
  refsr_io_init ();
  g_test_add_func ("/pool/basic/scale-rules", test_scale_rules);
  g_test_add_func ("/pool/basic/estimate", test_estimate);
  g_test_add_func ("/pool/basic/duplicate-reference", test_duplicate_reference);
  g_test_add_func ("/pool/quality/two-halves", test_two_halves);
  g_test_add_func ("/pool/quality/zoomed-reference", test_zoomed_reference);
  g_test_add_func ("/pool/quality/threads-and-prepared", test_threads_and_prepared);
  return g_test_run ();
}
