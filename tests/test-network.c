/* test-network.c — the LTE and the main network against the official
 * PyTorch outputs stored in the fixtures.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "model.h"
#include "lte.h"
#include "mainnet.h"

/* Fixture README, "Tolerances a port should meet". */
#define FEATURE_TOLERANCE 1e-5
#define SR_TOLERANCE 1e-4
#define SR_U8_MAX_DIFFERING_FRACTION 0.001

static const RefsrExec test_exec = { .n_threads = 2 };

static RefsrModel *
case_model (Fixture *f)
{
  const char *weights = fixture_meta (f, "weights");
  g_assert_nonnull (weights);
  return fixture_model (weights);
}

static void
assert_close (const RefsrTensor *got, Fixture *f, const char *name,
              double tolerance, const char *label)
{
  RefsrTensor want;
  double diff;

  fixture_tensor (f, name, &want);
  g_assert_cmpint (got->c, ==, want.c);
  g_assert_cmpint (got->h, ==, want.h);
  g_assert_cmpint (got->w, ==, want.w);
  diff = max_abs_diff (got->data, want.data, refsr_tensor_numel (&want),
                       NULL);
  g_test_message ("case %s %s: max |diff| = %.3g", label, name, diff);
  g_assert_cmpfloat (diff, <=, tolerance);
  refsr_tensor_clear (&want);
}

static void
lte_of (const RefsrModel *model, Fixture *f, const char *image,
        unsigned levels, RefsrLteFeatures *out)
{
  RefsrTensor x;
  GError *error = NULL;

  fixture_tensor (f, image, &x);
  g_assert_true (refsr_lte_forward (&model->lte, &x, levels, out, &test_exec,
                                    &error));
  g_assert_no_error (error);
  refsr_tensor_clear (&x);
}

static void
test_lte_case (gconstpointer data)
{
  const char *label = data;
  char *file = g_strdup_printf ("case-%s.safetensors", label);
  Fixture *f = fixture_open (file);
  RefsrModel *model = case_model (f);
  RefsrLteFeatures feats;

  lte_of (model, f, "lrsr", 4, &feats);
  g_assert_null (feats.lv1.data);
  g_assert_null (feats.lv2.data);
  assert_close (&feats.lv3, f, "lrsr_lv3", FEATURE_TOLERANCE, label);
  refsr_lte_features_clear (&feats);

  lte_of (model, f, "refsr", 4, &feats);
  assert_close (&feats.lv3, f, "refsr_lv3", FEATURE_TOLERANCE, label);
  refsr_lte_features_clear (&feats);

  lte_of (model, f, "ref", 7, &feats);
  assert_close (&feats.lv1, f, "ref_lv1", FEATURE_TOLERANCE, label);
  assert_close (&feats.lv2, f, "ref_lv2", FEATURE_TOLERANCE, label);
  assert_close (&feats.lv3, f, "ref_lv3", FEATURE_TOLERANCE, label);
  refsr_lte_features_clear (&feats);

  refsr_model_free (model);
  fixture_close (f);
  g_free (file);
}

/* Asking for fewer levels gives the same maps and nothing else. */
static void
test_lte_level_subsets (void)
{
  Fixture *f = fixture_open ("case-d.safetensors");
  RefsrModel *model = case_model (f);
  RefsrLteFeatures all, some;

  lte_of (model, f, "ref", 7, &all);
  for (unsigned levels = 1; levels < 7; levels++)
    {
      RefsrTensor *got[3] = { &some.lv1, &some.lv2, &some.lv3 };
      RefsrTensor *want[3] = { &all.lv1, &all.lv2, &all.lv3 };

      lte_of (model, f, "ref", levels, &some);
      for (int l = 0; l < 3; l++)
        {
          if ((levels & (1u << l)) == 0)
            {
              g_assert_null (got[l]->data);
              continue;
            }
          g_assert_cmpint (refsr_tensor_numel (got[l]), ==,
                           refsr_tensor_numel (want[l]));
          g_assert_cmpint (memcmp (got[l]->data, want[l]->data,
                                   refsr_tensor_numel (want[l])
                                       * sizeof (float)),
                           ==, 0);
        }
      refsr_lte_features_clear (&some);
    }
  refsr_lte_features_clear (&all);
  refsr_model_free (model);
  fixture_close (f);
}

typedef struct
{
  RefsrTensor lr, S, t3, t2, t1, sr;
} MainInputs;

static void
main_inputs_load (Fixture *f, MainInputs *in)
{
  fixture_tensor (f, "lr", &in->lr);
  fixture_tensor (f, "S", &in->S);
  fixture_tensor (f, "T_lv3", &in->t3);
  fixture_tensor (f, "T_lv2", &in->t2);
  fixture_tensor (f, "T_lv1", &in->t1);
  g_assert_true (refsr_tensor_alloc (&in->sr, 3, 4 * in->lr.h, 4 * in->lr.w,
                                     NULL));
}

static void
main_inputs_clear (MainInputs *in)
{
  RefsrTensor *all[] = { &in->lr, &in->S, &in->t3, &in->t2, &in->t1,
                         &in->sr };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    refsr_tensor_clear (all[i]);
}

typedef struct
{
  double last;
  int calls;
  gboolean monotonic;
  int cancel_after;        /* raise *cancel after this many layers; 0: never */
  atomic_int *cancel;
} LayerLog;

static void
log_layer (double macs, void *data)
{
  LayerLog *log = data;

  if (macs <= log->last)
    log->monotonic = FALSE;
  log->last = macs;
  log->calls++;
  if (log->cancel_after > 0 && log->calls == log->cancel_after)
    *log->cancel = 1;
}

static gboolean
run_main (const RefsrModel *model, MainInputs *in, LayerLog *log,
          const RefsrExec *exec, GError **error)
{
  return refsr_mainnet_forward (model, &in->lr, &in->S, &in->t3, &in->t2,
                                &in->t1, &in->sr, log_layer, log, exec,
                                error);
}

/* round-half-to-even((sr + 1) · 127.5) against sr_u8 (HWC). */
static void
check_sr_u8 (const RefsrTensor *sr, Fixture *f, const char *label)
{
  const RefsrSafetensorsItem *want = fixture_item (f, "sr_u8", "U8");
  gsize plane = (gsize) sr->h * sr->w, differing = 0;
  int worst = 0;

  g_assert_cmpuint (want->nbytes, ==, 3 * plane);
  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = rintf ((sr->data[c * plane + i] + 1.0f) * 127.5f);
        int got = (int) CLAMP (v, 0.0f, 255.0f);
        int diff = abs (got - want->bytes[3 * i + c]);
        worst = MAX (worst, diff);
        differing += diff != 0;
      }
  g_test_message ("case %s sr_u8: max diff %d, %" G_GSIZE_FORMAT " of %"
                  G_GSIZE_FORMAT " values differ", label, worst, differing,
                  3 * plane);
  g_assert_cmpint (worst, <=, 1);
  g_assert_cmpfloat ((double) differing, <=,
                     SR_U8_MAX_DIFFERING_FRACTION * 3.0 * plane);
}

static void
test_mainnet_case (gconstpointer data)
{
  const char *label = data;
  char *file = g_strdup_printf ("case-%s.safetensors", label);
  Fixture *f = fixture_open (file);
  RefsrModel *model = case_model (f);
  MainInputs in;
  LayerLog log = { 0.0, 0, TRUE, 0, NULL };
  GError *error = NULL;
  gint64 start;

  main_inputs_load (f, &in);
  start = g_get_monotonic_time ();
  g_assert_true (run_main (model, &in, &log, &test_exec, &error));
  g_assert_no_error (error);
  g_test_message ("case %s MainNet (%s, LR %dx%d, 2 threads): %.3f s",
                  label, fixture_meta (f, "config"), in.lr.w, in.lr.h,
                  (g_get_monotonic_time () - start) / 1e6);
  assert_close (&in.sr, f, "sr", SR_TOLERANCE, label);
  check_sr_u8 (&in.sr, f, label);

  /* progress ends at the documented cost of the pass */
  g_assert_true (log.monotonic);
  g_assert_cmpfloat (log.last, ==,
                     refsr_mainnet_macs (&model->config, in.lr.h, in.lr.w));

  main_inputs_clear (&in);
  refsr_model_free (model);
  fixture_close (f);
  g_free (file);
}

static void
test_mainnet_macs (void)
{
  RefsrConfig full = { 64, { 16, 16, 8, 4 } };
  RefsrConfig reduced = { 64, { 1, 1, 1, 1 } };

  /* spec §8.1 */
  g_assert_cmpfloat (refsr_lte_macs (96, 128), ==, 112329.0 * 96 * 128);
  g_assert_cmpfloat (refsr_mainnet_macs (&full, 1, 1), ==, 20536512.0);
  g_assert_cmpfloat (refsr_mainnet_macs (&reduced, 1, 1), ==, 11099328.0);
  g_assert_cmpfloat (refsr_mainnet_macs (&full, 24, 32), ==,
                     20536512.0 * 768);
  for (int n = 0; n < 4; n++)
    {
      RefsrConfig c = { 64, { n, 2 * n, n + 1, 3 * n } };
      double want = 36864.0 * (2 * (c.n_res_blocks[0] + c.n_res_blocks[1])
                               + 10 * c.n_res_blocks[2]
                               + 42 * c.n_res_blocks[3] + 237)
                    + 298176.0;
      g_assert_cmpfloat (refsr_mainnet_macs (&c, 5, 7), ==, 35 * want);
    }
}

static void
test_mainnet_cancel (void)
{
  Fixture *f = fixture_open ("case-d.safetensors");
  RefsrModel *model = case_model (f);
  atomic_int cancel = 0;
  RefsrExec exec = { .n_threads = 2, .cancel = &cancel };
  LayerLog log = { 0.0, 0, TRUE, 3, &cancel };
  MainInputs in;
  GError *error = NULL;

  main_inputs_load (f, &in);
  g_assert_false (run_main (model, &in, &log, &exec, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED);
  /* stopped right after the layer that raised the flag */
  g_assert_cmpint (log.calls, ==, 3);
  g_clear_error (&error);
  main_inputs_clear (&in);
  refsr_model_free (model);
  fixture_close (f);
}

/* The thread count changes only who computes what, not the numbers. */
static void
test_mainnet_threads (void)
{
  Fixture *f = fixture_open ("case-b.safetensors");
  RefsrModel *model = case_model (f);
  RefsrExec one = { .n_threads = 1 }, three = { .n_threads = 3 };
  LayerLog log = { 0.0, 0, TRUE, 0, NULL };
  MainInputs in;
  RefsrTensor first;
  GError *error = NULL;

  main_inputs_load (f, &in);
  g_assert_true (run_main (model, &in, &log, &one, &error));
  first = in.sr;
  g_assert_true (refsr_tensor_alloc (&in.sr, 3, first.h, first.w, NULL));
  g_assert_true (run_main (model, &in, &log, &three, &error));
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (first.data, in.sr.data,
                           refsr_tensor_numel (&first) * sizeof (float)),
                   ==, 0);
  refsr_tensor_clear (&first);
  main_inputs_clear (&in);
  refsr_model_free (model);
  fixture_close (f);
}

static void
test_mainnet_bad_shapes (void)
{
  Fixture *f = fixture_open ("case-d.safetensors");
  RefsrModel *model = case_model (f);
  MainInputs in;
  LayerLog log = { 0.0, 0, TRUE, 0, NULL };
  GError *error = NULL;
  int h;

  main_inputs_load (f, &in);
  h = in.t2.h;
  in.t2.h = h - 1;
  g_assert_false (run_main (model, &in, &log, &test_exec, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  in.t2.h = h;
  main_inputs_clear (&in);
  refsr_model_free (model);
  fixture_close (f);
}

int
main (int argc, char **argv)
{
  static const char *cases[] = { "a", "b", "c", "d", "e" };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *lte = g_strdup_printf ("/network/lte/case-%s", cases[i]);
      char *main_path = g_strdup_printf ("/network/mainnet/case-%s",
                                         cases[i]);
      g_test_add_data_func (lte, cases[i], test_lte_case);
      g_test_add_data_func (main_path, cases[i], test_mainnet_case);
      g_free (lte);
      g_free (main_path);
    }
  g_test_add_func ("/network/lte/level-subsets", test_lte_level_subsets);
  g_test_add_func ("/network/mainnet/macs", test_mainnet_macs);
  g_test_add_func ("/network/mainnet/cancel", test_mainnet_cancel);
  g_test_add_func ("/network/mainnet/threads", test_mainnet_threads);
  g_test_add_func ("/network/mainnet/bad-shapes", test_mainnet_bad_shapes);
  return g_test_run ();
}
