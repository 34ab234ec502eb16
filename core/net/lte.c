/* lte.c — the learnable texture extractor: VGG19 conv1_1 … conv3_1.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Spec §4.  The input is an image in [-1, 1]; the LTE sees (x + 1) / 2,
 * then the stored MeanShift 1×1 conv (not (x - mean) / std, whose rounding
 * differs), then the VGG layers.  Each map is freed as soon as the next
 * one exists, and the levels the caller did not ask for are dropped at
 * once, so a pass holds at most two full-resolution 64-channel maps.
 */
#include "lte.h"

#include <string.h>

#include "layers.h"

double
refsr_lte_macs (int h, int w)
{
  /* MeanShift 9, conv1_1 1728, conv1_2 36864 per input pixel; conv2_*
   * at a quarter of the pixels, conv3_1 at a sixteenth. */
  double hw = (double) h * w;
  double hw2 = (double) (h / 2) * (w / 2), hw4 = (double) (h / 4) * (w / 4);

  return (9.0 + 3.0 * 64 * 9 + 64.0 * 64 * 9) * hw
         + (64.0 * 128 * 9 + 128.0 * 128 * 9) * hw2 + 128.0 * 256 * 9 * hw4;
}

void
refsr_lte_features_clear (RefsrLteFeatures *f)
{
  refsr_tensor_clear (&f->lv1);
  refsr_tensor_clear (&f->lv2);
  refsr_tensor_clear (&f->lv3);
}

/* out = act(conv(in)), out allocated here at in's size. */
static gboolean
lte_conv (const RefsrConv *conv, const RefsrTensor *in, RefsrAct act,
          RefsrTensor *out, const RefsrExec *exec, GError **error)
{
  const RefsrTensor *inputs[1] = { in };

  if (!refsr_tensor_alloc (out, conv->cout, in->h, in->w, error))
    return FALSE;
  return refsr_conv2d (conv, inputs, 1, 1, act, out, exec, error);
}

static gboolean
lte_pool (const RefsrTensor *in, RefsrTensor *out, const RefsrExec *exec,
          GError **error)
{
  if (!refsr_tensor_alloc (out, in->c, in->h / 2, in->w / 2, error))
    return FALSE;
  refsr_maxpool2 (in, out, exec);
  return refsr_exec_check (exec, error);
}

/* (x + 1) / 2 in float32 — add, then divide, as the reference does —
 * followed by the MeanShift conv. */
static gboolean
lte_normalise (const RefsrLte *lte, const RefsrTensor *x, RefsrTensor *out,
               const RefsrExec *exec, GError **error)
{
  RefsrTensor unit = { 0 };
  gboolean ok;

  if (!refsr_tensor_alloc (&unit, x->c, x->h, x->w, error))
    return FALSE;
  for (gsize i = 0; i < refsr_tensor_numel (x); i++)
    unit.data[i] = (x->data[i] + 1.0f) / 2.0f;
  ok = lte_conv (&lte->sub_mean, &unit, REFSR_ACT_NONE, out, exec, error);
  refsr_tensor_clear (&unit);
  return ok;
}

/* Hands *src over to *dst when the level is wanted, else frees it. */
static void
keep_level (RefsrTensor *src, RefsrTensor *dst, gboolean wanted)
{
  if (wanted && src->data != NULL)
    {
      *dst = *src;
      memset (src, 0, sizeof *src);
    }
  refsr_tensor_clear (src);
}

/* conv → ReLU → (optional lv tap) → conv → ReLU → pool: one VGG block.
 * Consumes *in; leaves the tapped map in *tap and the pooled one in *out. */
static gboolean
lte_block (const RefsrConv *first, const RefsrConv *second, RefsrTensor *in,
           RefsrTensor *tap, RefsrTensor *out, const RefsrExec *exec,
           GError **error)
{
  RefsrTensor mid = { 0 };
  gboolean ok;

  ok = lte_conv (first, in, REFSR_ACT_RELU, tap, exec, error);
  refsr_tensor_clear (in);
  ok = ok && lte_conv (second, tap, REFSR_ACT_RELU, &mid, exec, error);
  ok = ok && lte_pool (&mid, out, exec, error);
  refsr_tensor_clear (&mid);
  return ok;
}

static int
smallest_side (unsigned want_levels)
{
  return (want_levels & 4u) ? 4 : (want_levels & 2u) ? 2 : 1;
}

gboolean
refsr_lte_forward (const RefsrLte *lte, const RefsrTensor *x,
                   unsigned want_levels, RefsrLteFeatures *out,
                   const RefsrExec *exec, GError **error)
{
  RefsrTensor cur = { 0 }, lv1 = { 0 }, lv2 = { 0 }, pooled = { 0 };
  gboolean want1 = (want_levels & 1u) != 0, want2 = (want_levels & 2u) != 0;
  gboolean want3 = (want_levels & 4u) != 0;
  gboolean ok;

  memset (out, 0, sizeof *out);
  if (x->c != 3 || x->h < smallest_side (want_levels)
      || x->w < smallest_side (want_levels))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The texture extractor needs an RGB image of at least "
                   "%d×%d pixels (got %d channels, %d×%d)",
                   smallest_side (want_levels), smallest_side (want_levels),
                   x->c, x->w, x->h);
      return FALSE;
    }

  ok = lte_normalise (lte, x, &cur, exec, error);
  if (ok && !want2 && !want3)
    ok = lte_conv (&lte->slice1_0, &cur, REFSR_ACT_RELU, &lv1, exec, error);
  else if (ok)
    {
      ok = lte_block (&lte->slice1_0, &lte->slice2_2, &cur, &lv1, &pooled,
                      exec, error);
      keep_level (&lv1, &out->lv1, want1);
      if (ok && want3)
        {
          ok = lte_block (&lte->slice2_5, &lte->slice3_7, &pooled, &lv2,
                          &cur, exec, error);
          keep_level (&lv2, &out->lv2, want2);
          ok = ok && lte_conv (&lte->slice3_10, &cur, REFSR_ACT_RELU,
                               &out->lv3, exec, error);
        }
      else if (ok)
        ok = lte_conv (&lte->slice2_5, &pooled, REFSR_ACT_RELU, &lv2, exec,
                       error);
    }
  keep_level (&lv1, &out->lv1, want1);
  keep_level (&lv2, &out->lv2, want2);
  refsr_tensor_clear (&cur);
  refsr_tensor_clear (&pooled);
  if (!ok)
    refsr_lte_features_clear (out);
  return ok;
}
