/* test-resample.c — PIL bicubic against Pillow's output, PyTorch bicubic
 * against the spec's formula.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "resample.h"

/* ---- PIL ------------------------------------------------------------- */

static void
assert_bytes_equal (const guint8 *got, const guint8 *want, gsize n,
                    const char *what)
{
  gsize differing = 0, first = 0;

  for (gsize i = 0; i < n; i++)
    if (got[i] != want[i] && differing++ == 0)
      first = i;
  if (differing != 0)
    g_error ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
             " bytes differ (first at %" G_GSIZE_FORMAT ": %d, want %d)",
             what, differing, n, first, got[first], want[first]);
}

/* Resizes an HWC RGB fixture entry and returns the new buffer. */
static guint8 *
pil_resize_item (const RefsrSafetensorsItem *in, int out_h, int out_w)
{
  guint8 *out = g_malloc ((gsize) out_h * out_w * 3);
  GError *error = NULL;

  g_assert_cmpint (in->ndim, ==, 3);
  g_assert_cmpint (in->shape[2], ==, 3);
  g_assert_true (refsr_pil_resize (in->bytes, (int) in->shape[1],
                                   (int) in->shape[0], (int) in->shape[1] * 3,
                                   3, out, out_w, out_h, &error));
  g_assert_no_error (error);
  return out;
}

static void
check_pil_entry (Fixture *f, const char *key)
{
  char *in_name = g_strconcat ("in_", key, NULL);
  char *mid_name = g_strconcat ("mid_", key, NULL);
  char *out_name = g_strconcat ("out_", key, NULL);
  const RefsrSafetensorsItem *in = fixture_item (f, in_name, "U8");
  const RefsrSafetensorsItem *want = fixture_item (f, out_name, "U8");
  guint8 *got;

  if (g_hash_table_contains (f->index->by_name, mid_name))
    {
      /* downup: two separate uint8 resizes, as Trainer.test makes refsr */
      const RefsrSafetensorsItem *mid = fixture_item (f, mid_name, "U8");
      RefsrSafetensorsItem mid_got = *mid;
      guint8 *mid_bytes = pil_resize_item (in, (int) mid->shape[0],
                                           (int) mid->shape[1]);
      assert_bytes_equal (mid_bytes, mid->bytes, mid->nbytes, mid_name);
      mid_got.bytes = mid_bytes;
      got = pil_resize_item (&mid_got, (int) want->shape[0],
                             (int) want->shape[1]);
      g_free (mid_bytes);
    }
  else
    got = pil_resize_item (in, (int) want->shape[0], (int) want->shape[1]);
  assert_bytes_equal (got, want->bytes, want->nbytes, out_name);
  g_test_message ("%s: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                  " -> %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ": exact",
                  key, in->shape[0], in->shape[1], want->shape[0],
                  want->shape[1]);
  g_free (got);
  g_free (in_name);
  g_free (mid_name);
  g_free (out_name);
}

static void
test_pil_fixtures (void)
{
  Fixture *f = fixture_open ("pil-bicubic.safetensors");
  int n_checked = 0;

  for (guint i = 0; i < f->index->items->len; i++)
    {
      const RefsrSafetensorsItem *item = g_ptr_array_index (f->index->items,
                                                            i);
      if (g_str_has_prefix (item->name, "in_"))
        {
          check_pil_entry (f, item->name + 3);
          n_checked++;
        }
    }
  /* the README lists twelve entries */
  g_assert_cmpint (n_checked, ==, 12);
  fixture_close (f);
}

/* HWC uint8 -> CHW float v / 127.5 - 1, as Trainer.test does. */
static void
to_network_range (const guint8 *hwc, int h, int w, float *chw)
{
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < h * w; i++)
      chw[(gsize) c * h * w + i] = (float) hwc[(gsize) i * 3 + c] / 127.5f
                                   - 1.0f;
}

static void
assert_floats_identical (const float *got, const float *want, gsize n,
                         const char *what)
{
  g_assert_cmpfloat (max_abs_diff (got, want, n, NULL), ==, 0.0);
  g_assert_cmpint (memcmp (got, want, n * sizeof (float)), ==, 0);
  g_test_message ("%s: bit-identical", what);
}

static void
check_case_lrsr (Fixture *f, const char *label)
{
  const RefsrSafetensorsItem *lr_u8 = fixture_item (f, "lr_u8", "U8");
  int h = (int) lr_u8->shape[0], w = (int) lr_u8->shape[1];
  guint8 *up = pil_resize_item (lr_u8, 4 * h, 4 * w);
  RefsrTensor want;
  float *got = g_new (float, (gsize) 3 * 16 * h * w);
  char *what = g_strdup_printf ("case %s lrsr", label);

  fixture_tensor (f, "lrsr", &want);
  g_assert_cmpint (want.h, ==, 4 * h);
  g_assert_cmpint (want.w, ==, 4 * w);
  to_network_range (up, 4 * h, 4 * w, got);
  assert_floats_identical (got, want.data, refsr_tensor_numel (&want), what);
  refsr_tensor_clear (&want);
  g_free (up);
  g_free (got);
  g_free (what);
}

static void
check_case_refsr (Fixture *f, const char *label)
{
  const RefsrSafetensorsItem *ref_u8 = fixture_item (f, "ref_u8", "U8");
  int w0 = (int) ref_u8->shape[1];
  int h = (int) ref_u8->shape[0] / 4 * 4, w = w0 / 4 * 4;
  guint8 *down = g_malloc ((gsize) (h / 4) * (w / 4) * 3);
  guint8 *up = g_malloc ((gsize) h * w * 3);
  float *got = g_new (float, (gsize) 3 * h * w);
  char *what = g_strdup_printf ("case %s refsr", label);
  RefsrTensor want;

  /* the top-left h×w crop is the same buffer read with the full stride */
  g_assert_true (refsr_pil_resize (ref_u8->bytes, w, h, w0 * 3, 3, down,
                                   w / 4, h / 4, NULL));
  g_assert_true (refsr_pil_resize (down, w / 4, h / 4, w / 4 * 3, 3, up, w,
                                   h, NULL));
  fixture_tensor (f, "refsr", &want);
  g_assert_cmpint (want.h, ==, h);
  g_assert_cmpint (want.w, ==, w);
  to_network_range (up, h, w, got);
  assert_floats_identical (got, want.data, refsr_tensor_numel (&want), what);
  refsr_tensor_clear (&want);
  g_free (down);
  g_free (up);
  g_free (got);
  g_free (what);
}

static void
test_pil_case_inputs (gconstpointer data)
{
  const char *label = data;
  char *file = g_strdup_printf ("case-%s.safetensors", label);
  Fixture *f = fixture_open (file);

  check_case_lrsr (f, label);
  check_case_refsr (f, label);
  fixture_close (f);
  g_free (file);
}

static void
test_pil_rejects_bad_sizes (void)
{
  guint8 pixel[3] = { 1, 2, 3 }, out[3];
  GError *error = NULL;

  g_assert_false (refsr_pil_resize (pixel, 1, 1, 3, 3, out, 0, 1, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (refsr_pil_resize (pixel, 1, 1, 2, 3, out, 1, 1, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

/* Windows of a resize are the whole resize's pixels there, bit for bit:
 * enlarging (LR↑ of a tile), reducing, one axis only, odd sizes, windows
 * at the borders and of one pixel. */
static void
test_pil_windows (void)
{
  static const int sizes[][4] = { { 13, 7, 52, 28 }, { 29, 17, 7, 4 },
                                  { 11, 9, 11, 36 }, { 10, 5, 37, 5 },
                                  { 1, 1, 4, 4 } };
  GRand *rand = g_rand_new_with_seed (5);

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int iw = sizes[i][0], ih = sizes[i][1], ow = sizes[i][2];
      int oh = sizes[i][3];
      g_autofree guint8 *in = g_malloc ((gsize) iw * ih * 3);
      g_autofree guint8 *whole = g_malloc ((gsize) ow * oh * 3);
      g_autofree guint8 *part = g_malloc ((gsize) ow * oh * 3);

      for (gsize k = 0; k < (gsize) iw * ih * 3; k++)
        in[k] = (guint8) g_rand_int_range (rand, 0, 256);
      g_assert_true (refsr_pil_resize (in, iw, ih, iw * 3, 3, whole, ow, oh,
                                       NULL));
      for (int trial = 0; trial < 40; trial++)
        {
          RefsrRect w;

          w.x0 = g_rand_int_range (rand, 0, ow);
          w.y0 = g_rand_int_range (rand, 0, oh);
          w.x1 = g_rand_int_range (rand, w.x0 + 1, ow + 1);
          w.y1 = g_rand_int_range (rand, w.y0 + 1, oh + 1);
          g_assert_true (refsr_pil_resize_window (in, iw, ih, iw * 3, 3, ow,
                                                  oh, &w, part, ow * 3,
                                                  NULL));
          for (int y = w.y0; y < w.y1; y++)
            g_assert_cmpmem (part + (gsize) (y - w.y0) * ow * 3,
                             (gsize) refsr_rect_width (&w) * 3,
                             whole + ((gsize) y * ow + w.x0) * 3,
                             (gsize) refsr_rect_width (&w) * 3);
        }
    }
  g_rand_free (rand);
}

static void
test_pil_window_outside (void)
{
  guint8 pixel[3] = { 1, 2, 3 }, out[48];
  RefsrRect outside = { 2, 0, 5, 4 }, empty = { 1, 1, 1, 2 };
  GError *error = NULL;

  g_assert_false (refsr_pil_resize_window (pixel, 1, 1, 3, 3, 4, 4,
                                           &outside, out, 12, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (refsr_pil_resize_window (pixel, 1, 1, 3, 3, 4, 4, &empty,
                                           out, 12, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

/* ---- PyTorch bicubic ------------------------------------------------- */

static void
fill_pattern (RefsrTensor *t, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < refsr_tensor_numel (t); i++)
    t->data[i] = (float) g_rand_double_range (rand, -2.0, 2.0);
  g_rand_free (rand);
}

/* Weights of spec §7.2 evaluated in double, written independently of the
 * library's code: the Keys cubic with A = -0.75 as a piecewise polynomial
 * in |d|, applied to the distances to the four taps. */
static double
keys_cubic (double d)
{
  const double a = -0.75;
  d = fabs (d);
  if (d <= 1.0)
    return (a + 2.0) * d * d * d - (a + 3.0) * d * d + 1.0;
  if (d < 2.0)
    return a * d * d * d - 5.0 * a * d * d + 8.0 * a * d - 4.0 * a;
  return 0.0;
}

static double
expected_upsample (const RefsrTensor *in, int factor, int c, int oy, int ox)
{
  double sy = (oy + 0.5) / factor - 0.5, sx = (ox + 0.5) / factor - 0.5;
  int iy = (int) floor (sy), ix = (int) floor (sx);
  double sum = 0.0;

  for (int i = -1; i <= 2; i++)
    for (int j = -1; j <= 2; j++)
      {
        int y = CLAMP (iy + i, 0, in->h - 1), x = CLAMP (ix + j, 0, in->w - 1);
        sum += keys_cubic (sy - (iy + i)) * keys_cubic (sx - (ix + j))
               * in->data[((gsize) c * in->h + y) * in->w + x];
      }
  return sum;
}

static void
test_torch_hand_weights (void)
{
  /* Hand-computed from §7.2 for t = 0.25 (×2, odd outputs); t = 0.75 uses
   * them reversed.  A 1-row input makes the vertical weights sum to one. */
  const double w_quarter[4] = { -0.10546875, 0.87890625, 0.26171875,
                                -0.03515625 };
  float row[3] = { 1.0f, 5.0f, -3.0f };
  float out_data[12];
  RefsrTensor in = { 1, 1, 3, row, 0 }, out = { 1, 2, 6, out_data, 0 };
  /* outputs 0..5 sit at sources -0.25, 0.25, 0.75, 1.25, 1.75, 2.25 */
  const int base[6] = { -1, 0, 0, 1, 1, 2 };

  refsr_bicubic_upsample_ref (&in, 2, &out);
  for (int o = 0; o < 6; o++)
    {
      double want = 0.0;
      for (int j = 0; j < 4; j++)
        {
          double wgt = o % 2 ? w_quarter[j] : w_quarter[3 - j];
          want += wgt * row[CLAMP (base[o] - 1 + j, 0, 2)];
        }
      g_assert_cmpfloat_with_epsilon (out_data[o], want, 1e-6);
      g_assert_cmpfloat_with_epsilon (out_data[6 + o], want, 1e-6);
    }
}

static void
test_torch_ref_formula (void)
{
  const int sizes[][3] = { { 2, 3, 2 }, { 1, 1, 1 }, { 3, 5, 7 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int factor = 2; factor <= 4; factor += 2)
      {
        RefsrTensor in, out;
        double worst = 0.0;
        g_assert_true (refsr_tensor_alloc (&in, sizes[s][0], sizes[s][1],
                                           sizes[s][2], NULL));
        g_assert_true (refsr_tensor_alloc (&out, in.c, in.h * factor,
                                           in.w * factor, NULL));
        fill_pattern (&in, 7 + s);
        refsr_bicubic_upsample_ref (&in, factor, &out);
        for (int c = 0; c < out.c; c++)
          for (int y = 0; y < out.h; y++)
            for (int x = 0; x < out.w; x++)
              worst = MAX (worst,
                           fabs (out.data[((gsize) c * out.h + y) * out.w + x]
                                 - expected_upsample (&in, factor, c, y, x)));
        g_test_message ("%dx%dx%d up %d: max |ref - formula| = %.3g",
                        in.c, in.h, in.w, factor, worst);
        g_assert_cmpfloat (worst, <=, 2e-6);
        refsr_tensor_clear (&in);
        refsr_tensor_clear (&out);
      }
}

static void
test_torch_fast_vs_ref (void)
{
  const int sizes[][3] = { { 1, 1, 1 }, { 3, 7, 5 }, { 5, 13, 2 },
                           { 64, 9, 11 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int factor = 2; factor <= 4; factor += 2)
      {
        RefsrTensor in, want, one, two;
        RefsrExec exec1 = { .n_threads = 1 }, exec2 = { .n_threads = 2 };
        int c = sizes[s][0], h = sizes[s][1], w = sizes[s][2];
        gsize n = (gsize) c * h * w * factor * factor;

        g_assert_true (refsr_tensor_alloc (&in, c, h, w, NULL));
        g_assert_true (refsr_tensor_alloc (&want, c, h * factor, w * factor,
                                           NULL));
        g_assert_true (refsr_tensor_alloc (&one, c, h * factor, w * factor,
                                           NULL));
        g_assert_true (refsr_tensor_alloc (&two, c, h * factor, w * factor,
                                           NULL));
        fill_pattern (&in, 100 + s);
        refsr_bicubic_upsample_ref (&in, factor, &want);
        refsr_bicubic_upsample (&in, factor, &one, &exec1);
        refsr_bicubic_upsample (&in, factor, &two, &exec2);
        g_assert_cmpfloat (max_abs_diff (one.data, want.data, n, NULL), <=,
                           1e-6);
        /* each channel is computed the same way whatever thread runs it */
        g_assert_cmpint (memcmp (one.data, two.data, n * sizeof (float)), ==,
                         0);
        refsr_tensor_clear (&in);
        refsr_tensor_clear (&want);
        refsr_tensor_clear (&one);
        refsr_tensor_clear (&two);
      }
}

int
main (int argc, char **argv)
{
  static const char *cases[] = { "a", "b", "c", "d", "e" };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/resample/pil/fixtures", test_pil_fixtures);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("/resample/pil/case-%s", cases[i]);
      g_test_add_data_func (path, cases[i], test_pil_case_inputs);
      g_free (path);
    }
  g_test_add_func ("/resample/pil/bad-sizes", test_pil_rejects_bad_sizes);
  g_test_add_func ("/resample/pil/windows", test_pil_windows);
  g_test_add_func ("/resample/pil/window-outside", test_pil_window_outside);
  g_test_add_func ("/resample/torch/hand-weights", test_torch_hand_weights);
  g_test_add_func ("/resample/torch/ref-vs-formula", test_torch_ref_formula);
  g_test_add_func ("/resample/torch/fast-vs-ref", test_torch_fast_vs_ref);
  return g_test_run ();
}
