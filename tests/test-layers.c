/* test-layers.c — pixel shuffle, max-pool and additions against plain loops.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "layers.h"

static const RefsrExec exec1 = { .n_threads = 1 },
                       exec2 = { .n_threads = 2 };

static void
random_tensor (GRand *rand, RefsrTensor *t, int c, int h, int w)
{
  g_assert_true (refsr_tensor_alloc (t, c, h, w, NULL));
  for (gsize i = 0; i < refsr_tensor_numel (t); i++)
    t->data[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
}

static void
assert_tensors_equal (const RefsrTensor *a, const RefsrTensor *b)
{
  g_assert_cmpint (a->c, ==, b->c);
  g_assert_cmpint (a->h, ==, b->h);
  g_assert_cmpint (a->w, ==, b->w);
  g_assert_cmpmem (a->data, refsr_tensor_numel (a) * sizeof (float),
                   b->data, refsr_tensor_numel (b) * sizeof (float));
}

static float
at (const RefsrTensor *t, int c, int y, int x)
{
  return t->data[((gsize) c * t->h + y) * t->w + x];
}

static const int sizes[][2] = { { 1, 1 }, { 2, 3 }, { 7, 13 }, { 33, 20 } };

/* The layer's formula read directly off layers.h (PyTorch's definition). */
static void
test_pixel_shuffle (void)
{
  GRand *rand = g_rand_new_with_seed (1);

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int h = sizes[s][0], w = sizes[s][1];
      RefsrTensor in, out1, out2, expected;

      random_tensor (rand, &in, 12, h, w);
      g_assert_true (refsr_tensor_alloc (&out1, 3, 2 * h, 2 * w, NULL));
      g_assert_true (refsr_tensor_alloc (&out2, 3, 2 * h, 2 * w, NULL));
      g_assert_true (refsr_tensor_alloc (&expected, 3, 2 * h, 2 * w, NULL));
      for (int c = 0; c < 3; c++)
        for (int y = 0; y < 2 * h; y++)
          for (int x = 0; x < 2 * w; x++)
            expected.data[((gsize) c * 2 * h + y) * 2 * w + x]
              = MAX (at (&in, 4 * c + 2 * (y % 2) + x % 2, y / 2, x / 2), 0);

      refsr_pixel_shuffle2_relu (&in, &out1, &exec1);
      refsr_pixel_shuffle2_relu (&in, &out2, &exec2);
      assert_tensors_equal (&out1, &expected);
      assert_tensors_equal (&out2, &expected);
      refsr_tensor_clear (&in);
      refsr_tensor_clear (&out1);
      refsr_tensor_clear (&out2);
      refsr_tensor_clear (&expected);
    }
  g_rand_free (rand);
}

/* Odd sizes drop the last row / column (floor mode). */
static void
test_maxpool (void)
{
  GRand *rand = g_rand_new_with_seed (2);

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int h = sizes[s][0], w = sizes[s][1], oh = h / 2, ow = w / 2;
      RefsrTensor in, out1, out2, expected;

      if (oh == 0 || ow == 0)
        continue; /* tensors cannot be empty */

      random_tensor (rand, &in, 5, h, w);
      g_assert_true (refsr_tensor_alloc (&out1, 5, oh, ow, NULL));
      g_assert_true (refsr_tensor_alloc (&out2, 5, oh, ow, NULL));
      g_assert_true (refsr_tensor_alloc (&expected, 5, oh, ow, NULL));
      for (int c = 0; c < 5; c++)
        for (int y = 0; y < oh; y++)
          for (int x = 0; x < ow; x++)
            {
              float m = -G_MAXFLOAT;

              for (int i = 0; i < 4; i++)
                m = MAX (m, at (&in, c, 2 * y + i / 2, 2 * x + i % 2));
              expected.data[((gsize) c * oh + y) * ow + x] = m;
            }

      refsr_maxpool2 (&in, &out1, &exec1);
      refsr_maxpool2 (&in, &out2, &exec2);
      assert_tensors_equal (&out1, &expected);
      assert_tensors_equal (&out2, &expected);
      refsr_tensor_clear (&in);
      refsr_tensor_clear (&out1);
      refsr_tensor_clear (&out2);
      refsr_tensor_clear (&expected);
    }
  g_rand_free (rand);
}

static void
copy_tensor (const RefsrTensor *src, RefsrTensor *dst)
{
  g_assert_true (refsr_tensor_alloc (dst, src->c, src->h, src->w, NULL));
  memcpy (dst->data, src->data, refsr_tensor_numel (src) * sizeof (float));
}

static void
test_add_scaled (void)
{
  GRand *rand = g_rand_new_with_seed (3);

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int h = sizes[s][0], w = sizes[s][1];
      RefsrTensor x, t, map, x1, x2;

      random_tensor (rand, &x, 6, h, w);
      random_tensor (rand, &t, 6, h, w);
      random_tensor (rand, &map, 1, h, w);
      copy_tensor (&x, &x1);
      copy_tensor (&x, &x2);

      for (int c = 0; c < 6; c++)
        for (int i = 0; i < h * w; i++)
          x.data[c * h * w + i] += t.data[c * h * w + i] * map.data[i];
      refsr_add_scaled (&x1, &t, &map, &exec1);
      refsr_add_scaled (&x2, &t, &map, &exec2);
      assert_tensors_equal (&x1, &x);
      assert_tensors_equal (&x2, &x);

      refsr_tensor_clear (&x);
      refsr_tensor_clear (&t);
      refsr_tensor_clear (&map);
      refsr_tensor_clear (&x1);
      refsr_tensor_clear (&x2);
    }
  g_rand_free (rand);
}

static void
test_add (void)
{
  GRand *rand = g_rand_new_with_seed (4);

  /* 64×40×40 spans several of the 64 Ki-element chunks. */
  for (int c = 1; c <= 64; c += 63)
    {
      RefsrTensor x, y, x1, x2;

      random_tensor (rand, &x, c, 40, 40);
      random_tensor (rand, &y, c, 40, 40);
      copy_tensor (&x, &x1);
      copy_tensor (&x, &x2);
      for (gsize i = 0; i < refsr_tensor_numel (&x); i++)
        x.data[i] += y.data[i];
      refsr_add (&x1, &y, &exec1);
      refsr_add (&x2, &y, &exec2);
      assert_tensors_equal (&x1, &x);
      assert_tensors_equal (&x2, &x);

      refsr_tensor_clear (&x);
      refsr_tensor_clear (&y);
      refsr_tensor_clear (&x1);
      refsr_tensor_clear (&x2);
    }
  g_rand_free (rand);
}

/* The pixel shuffle's channel order on a case small enough to read. */
static void
test_pixel_shuffle_by_hand (void)
{
  float in_data[] = { 1, -2, 3, 4 }; /* 4 channels of 1×1 */
  float out_data[4];
  RefsrTensor in = { 4, 1, 1, in_data, 0 }, out = { 1, 2, 2, out_data, 0 };

  refsr_pixel_shuffle2_relu (&in, &out, &exec1);
  g_assert_cmpfloat (out_data[0], ==, 1);  /* (0,0) ← channel 0 */
  g_assert_cmpfloat (out_data[1], ==, 0);  /* (0,1) ← channel 1, ReLU */
  g_assert_cmpfloat (out_data[2], ==, 3);  /* (1,0) ← channel 2 */
  g_assert_cmpfloat (out_data[3], ==, 4);  /* (1,1) ← channel 3 */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layers/pixel-shuffle-by-hand",
                   test_pixel_shuffle_by_hand);
  g_test_add_func ("/layers/pixel-shuffle", test_pixel_shuffle);
  g_test_add_func ("/layers/maxpool", test_maxpool);
  g_test_add_func ("/layers/add-scaled", test_add_scaled);
  g_test_add_func ("/layers/add", test_add);
  return g_test_run ();
}
