/* test-conv2d.c — the banded im2col convolution against the direct loops.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "conv2d.h"

static void
fill_random (GRand *rand, float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
}

/* A 1-channel 3×3 image, 3×3 kernel, pad 1, worked out by hand. */
static void
test_ref_by_hand (void)
{
  float image[] = { 1, 2, 3,
                    4, 5, 6,
                    7, 8, 9 };
  const float weight[] = { 0, 1, 0,
                           1, 1, 1,
                           0, 1, -1 };
  const float bias[] = { 0.5f };
  /* out(y,x) = up + left + centre + right + down − down-right + bias. */
  const float expected[] = { 1 + 2 + 4 - 5 + 0.5f,
                             1 + 2 + 3 + 5 - 6 + 0.5f,
                             2 + 3 + 6 + 0.5f,
                             1 + 4 + 5 + 7 - 8 + 0.5f,
                             2 + 4 + 5 + 6 + 8 - 9 + 0.5f,
                             3 + 5 + 6 + 9 + 0.5f,
                             4 + 7 + 8 + 0.5f,
                             5 + 7 + 8 + 9 + 0.5f,
                             6 + 8 + 9 + 0.5f };
  RefsrConv conv = { 1, 1, 3, weight, bias };
  RefsrTensor in = { 1, 3, 3, image, 0 };
  float out_data[9], stride2_data[4];
  RefsrTensor out = { 1, 3, 3, out_data, 0 };
  RefsrTensor out2 = { 1, 2, 2, stride2_data, 0 };
  const RefsrTensor *inputs[] = { &in };

  refsr_conv2d_ref (&conv, inputs, 1, 1, REFSR_ACT_NONE, &out);
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (out_data[i], ==, expected[i]);

  /* Stride 2 samples the output at (0,0), (0,2), (2,0), (2,2). */
  refsr_conv2d_ref (&conv, inputs, 1, 2, REFSR_ACT_NONE, &out2);
  g_assert_cmpfloat (stride2_data[0], ==, expected[0]);
  g_assert_cmpfloat (stride2_data[1], ==, expected[2]);
  g_assert_cmpfloat (stride2_data[2], ==, expected[6]);
  g_assert_cmpfloat (stride2_data[3], ==, expected[8]);

  /* ReLU clips a negative sum: with the corner at −10, (0,0) is −8.5. */
  image[0] = -10;
  refsr_conv2d_ref (&conv, inputs, 1, 1, REFSR_ACT_RELU, &out);
  g_assert_cmpfloat (out_data[0], ==, 0.0f);
  g_assert_cmpfloat (out_data[8], ==, expected[8]);
}

typedef struct
{
  int h, w, k, stride, cout;
  int split[3]; /* channels of each input, 0 = no such input */
} ConvCase;

static void
compare_case (const ConvCase *cc, RefsrAct act)
{
  GRand *rand = g_rand_new_with_seed (cc->h * 1000 + cc->w * 10 + cc->k);
  RefsrTensor in[3];
  const RefsrTensor *inputs[3];
  int n_inputs = 0, cin = 0;

  for (; n_inputs < 3 && cc->split[n_inputs] > 0; n_inputs++)
    {
      RefsrTensor *t = &in[n_inputs];

      g_assert_true (refsr_tensor_alloc (t, cc->split[n_inputs], cc->h, cc->w,
                                         NULL));
      fill_random (rand, t->data, refsr_tensor_numel (t));
      inputs[n_inputs] = t;
      cin += t->c;
    }

  gsize n_weight = (gsize) cc->cout * cin * cc->k * cc->k;
  float *weight = g_new (float, n_weight);
  float *bias = g_new (float, cc->cout);
  RefsrConv conv = { cc->cout, cin, cc->k, weight, bias };
  int oh = refsr_conv_out_size (cc->h, cc->k, cc->stride);
  int ow = refsr_conv_out_size (cc->w, cc->k, cc->stride);
  RefsrTensor expected, one, two;

  fill_random (rand, weight, n_weight);
  fill_random (rand, bias, cc->cout);
  g_assert_true (refsr_tensor_alloc (&expected, cc->cout, oh, ow, NULL));
  g_assert_true (refsr_tensor_alloc (&one, cc->cout, oh, ow, NULL));
  g_assert_true (refsr_tensor_alloc (&two, cc->cout, oh, ow, NULL));

  RefsrExec exec1 = { .n_threads = 1 }, exec2 = { .n_threads = 2 };
  GError *error = NULL;

  refsr_conv2d_ref (&conv, inputs, n_inputs, cc->stride, act, &expected);
  g_assert_true (refsr_conv2d (&conv, inputs, n_inputs, cc->stride, act, &one,
                               &exec1, &error));
  g_assert_no_error (error);
  g_assert_true (refsr_conv2d (&conv, inputs, n_inputs, cc->stride, act, &two,
                               &exec2, &error));
  g_assert_no_error (error);

  gsize n = refsr_tensor_numel (&expected);
  float scale = 0.0f, max_diff = 0.0f;

  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabsf (expected.data[i]));

  g_assert_cmpmem (one.data, n * sizeof (float), two.data, n * sizeof (float));
  for (gsize i = 0; i < n; i++)
    {
      /* Only the summation order differs: 1e-5 relative to the largest
       * output. */
      float diff = fabsf (one.data[i] - expected.data[i]);

      max_diff = MAX (max_diff, diff);
      g_assert_cmpfloat (diff, <=, 1e-5f * MAX (scale, 1.0f));
      if (act == REFSR_ACT_RELU)
        g_assert_cmpfloat (one.data[i], >=, 0.0f);
    }
  g_test_message ("%dx%d k%d s%d cin %d: max |diff| %.3g of max |out| %.3g",
                  cc->h, cc->w, cc->k, cc->stride, cin, max_diff, scale);

  for (int t = 0; t < n_inputs; t++)
    refsr_tensor_clear (&in[t]);
  refsr_tensor_clear (&expected);
  refsr_tensor_clear (&one);
  refsr_tensor_clear (&two);
  g_free (weight);
  g_free (bias);
  g_rand_free (rand);
}

static const ConvCase cases[] = {
  { 7, 13, 3, 1, 5, { 3, 0, 0 } },
  { 7, 13, 3, 2, 4, { 2, 3, 0 } },
  { 7, 13, 1, 1, 6, { 1, 2, 4 } },
  { 7, 13, 1, 2, 3, { 5, 0, 0 } },
  { 1, 1, 3, 1, 2, { 3, 1, 0 } },
  { 1, 1, 3, 2, 2, { 3, 0, 0 } },
  { 1, 1, 1, 1, 2, { 3, 0, 0 } },
  { 2, 3, 3, 1, 7, { 1, 1, 1 } },
  { 2, 3, 3, 2, 7, { 4, 0, 0 } },
  { 2, 3, 1, 1, 7, { 2, 2, 0 } },
  /* Big enough for several bands and an odd last band. */
  { 37, 41, 3, 1, 16, { 16, 0, 0 } },
  { 37, 41, 3, 2, 16, { 8, 8, 0 } },
  { 37, 41, 1, 1, 12, { 16, 3, 0 } },
  /* The network's shape, with a col buffer of more than one row. */
  { 19, 300, 3, 1, 64, { 64, 0, 0 } },
};

static void
test_against_ref (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      compare_case (&cases[i], REFSR_ACT_NONE);
      compare_case (&cases[i], REFSR_ACT_RELU);
    }
}

static void
test_cancelled (void)
{
  const float weight[] = { 1 }, bias[] = { 0 };
  float in_data[4] = { 1, 2, 3, 4 }, out_data[4];
  RefsrConv conv = { 1, 1, 1, weight, bias };
  RefsrTensor in = { 1, 2, 2, in_data, 0 }, out = { 1, 2, 2, out_data, 0 };
  const RefsrTensor *inputs[] = { &in };
  atomic_int cancel = 1;
  RefsrExec exec = { .n_threads = 2, .cancel = &cancel };
  GError *error = NULL;

  g_assert_false (refsr_conv2d (&conv, inputs, 1, 1, REFSR_ACT_NONE, &out,
                                &exec, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/conv2d/ref-by-hand", test_ref_by_hand);
  g_test_add_func ("/conv2d/against-ref", test_against_ref);
  g_test_add_func ("/conv2d/cancelled", test_cancelled);
  return g_test_run ();
}
