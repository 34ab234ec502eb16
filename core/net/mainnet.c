/* mainnet.c — TTSR's main network: SFE, three stages with soft-attention
 * texture heads and cross-scale feature integration, merge tail.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Spec §6, in the reference's float32 operation order (every residual add
 * is a single float addition, so adding in place in either order gives the
 * reference's bits).
 *
 * Memory is the constraint at large sizes: a 64-channel map at 4h×4w is
 * 16·F floats per LR pixel.  Concatenations are passed to the convolution
 * as lists of inputs (no copies), every map is freed or reused right after
 * its last use, and stage 3 runs its three branches one after the other
 * (the ×4 branch last, once the smaller ones are done), so at most four
 * ×4 maps are alive at any time, besides the caller's T_lv1.
 */
#include "mainnet.h"

#include <string.h>

#include "layers.h"
#include "resample.h"

/* One forward pass: what every step needs, and the MACs done so far. */
typedef struct
{
  const RefsrMainNet *m;
  const RefsrConfig *config;
  const RefsrExec *exec;
  RefsrLayerDone layer_done;
  void *layer_data;
  double macs;
  GError **error;
} Net;

static double
conv_macs (const RefsrConv *conv, int out_h, int out_w)
{
  return (double) conv->cout * conv->cin * conv->k * conv->k
         * (double) out_h * out_w;
}

/* Makes *t a c×h×w map, keeping its buffer when that is large enough. */
static gboolean
map_ensure (Net *net, RefsrTensor *t, int c, int h, int w)
{
  if (t->data != NULL && refsr_tensor_numel (t) >= (gsize) c * h * w)
    {
      t->c = c;
      t->h = h;
      t->w = w;
      return TRUE;
    }
  refsr_tensor_clear (t);
  return refsr_tensor_alloc (t, c, h, w, net->error);
}

static gboolean
map_copy (Net *net, const RefsrTensor *src, RefsrTensor *dst)
{
  if (!map_ensure (net, dst, src->c, src->h, src->w))
    return FALSE;
  memcpy (dst->data, src->data, refsr_tensor_numel (src) * sizeof (float));
  return TRUE;
}

static void
map_swap (RefsrTensor *a, RefsrTensor *b)
{
  RefsrTensor t = *a;
  *a = *b;
  *b = t;
}

static void
maps_clear (RefsrTensor *a, RefsrTensor *b, RefsrTensor *c)
{
  refsr_tensor_clear (a);
  refsr_tensor_clear (b);
  if (c != NULL)
    refsr_tensor_clear (c);
}

/* out = act(conv(cat(inputs))), then progress and the cancel check. */
static gboolean
net_conv_cat (Net *net, const RefsrConv *conv,
              const RefsrTensor *const *inputs, int n_inputs, int stride,
              RefsrAct act, RefsrTensor *out)
{
  int out_h = refsr_conv_out_size (inputs[0]->h, conv->k, stride);
  int out_w = refsr_conv_out_size (inputs[0]->w, conv->k, stride);

  if (!map_ensure (net, out, conv->cout, out_h, out_w)
      || !refsr_conv2d (conv, inputs, n_inputs, stride, act, out, net->exec,
                        net->error))
    return FALSE;
  net->macs += conv_macs (conv, out_h, out_w);
  if (net->layer_done != NULL)
    net->layer_done (net->macs, net->layer_data);
  return refsr_exec_check (net->exec, net->error);
}

static gboolean
net_conv (Net *net, const RefsrConv *conv, const RefsrTensor *in, int stride,
          RefsrAct act, RefsrTensor *out)
{
  const RefsrTensor *inputs[1] = { in };
  return net_conv_cat (net, conv, inputs, 1, stride, act, out);
}

static gboolean
net_upsample (Net *net, const RefsrTensor *in, int factor, RefsrTensor *out)
{
  if (!map_ensure (net, out, in->c, in->h * factor, in->w * factor))
    return FALSE;
  refsr_bicubic_upsample (in, factor, out, net->exec);
  return refsr_exec_check (net->exec, net->error);
}

/* out = ReLU(PixelShuffle2(conv(in))); scratch receives the conv output. */
static gboolean
net_conv_shuffle (Net *net, const RefsrConv *conv, const RefsrTensor *in,
                  RefsrTensor *scratch, RefsrTensor *out)
{
  if (!net_conv (net, conv, in, 1, REFSR_ACT_NONE, scratch)
      || !map_ensure (net, out, scratch->c / 4, 2 * scratch->h,
                      2 * scratch->w))
    return FALSE;
  refsr_pixel_shuffle2_relu (scratch, out, net->exec);
  return TRUE;
}

/* x ← x + conv_head(cat(x, texture)) · S↑, the soft-attention texture
 * head (no activation, spec §6.6.1); S is upsampled to x's scale.
 * scratch must not be x; it holds the head's output afterwards. */
static gboolean
net_texture_head (Net *net, const RefsrConv *head, const RefsrTensor *texture,
                  const RefsrTensor *S, int factor, RefsrTensor *scratch,
                  RefsrTensor *x)
{
  const RefsrTensor *inputs[2] = { x, texture };
  RefsrTensor s_up = { 0 };
  const RefsrTensor *s = S;

  if (!net_conv_cat (net, head, inputs, 2, 1, REFSR_ACT_NONE, scratch))
    return FALSE;
  if (factor > 1)
    {
      if (!net_upsample (net, S, factor, &s_up))
        return FALSE;
      s = &s_up;
    }
  refsr_add_scaled (x, scratch, s, net->exec);
  refsr_tensor_clear (&s_up);
  return TRUE;
}

/* x ← RB_n(… RB_1(x)); a and b are scratch maps (allocated when empty).
 * Each block is conv2(ReLU(conv1(x))) · res_scale + x with res_scale 1. */
static gboolean
net_res_chain (Net *net, const RefsrResBlock *rbs, int n, RefsrTensor *x,
               RefsrTensor *a, RefsrTensor *b)
{
  for (int i = 0; i < n; i++)
    {
      if (!net_conv (net, &rbs[i].conv1, x, 1, REFSR_ACT_RELU, a)
          || !net_conv (net, &rbs[i].conv2, a, 1, REFSR_ACT_NONE, b))
        return FALSE;
      refsr_add (b, x, net->exec);
      map_swap (x, b);
    }
  return TRUE;
}

/* x ← x + tail(RB chain(r)), the end of every branch of stages 1–3.
 * r is consumed; a and b are scratch maps of its size. */
static gboolean
net_branch (Net *net, const RefsrResBlock *rbs, int n, const RefsrConv *tail,
            RefsrTensor *r, RefsrTensor *x, RefsrTensor *a, RefsrTensor *b)
{
  if (!net_res_chain (net, rbs, n, r, a, b)
      || !net_conv (net, tail, r, 1, REFSR_ACT_NONE, a))
    return FALSE;
  refsr_add (x, a, net->exec);
  return TRUE;
}

/* Shallow feature extraction (§6.1): x = tail(RBs(a)) + a,
 * a = ReLU(head(lr)). */
static gboolean
net_sfe (Net *net, const RefsrTensor *lr, RefsrTensor *x)
{
  const RefsrSfe *sfe = &net->m->sfe;
  RefsrTensor head = { 0 }, a = { 0 }, b = { 0 };
  gboolean ok;

  ok = net_conv (net, &sfe->conv_head, lr, 1, REFSR_ACT_RELU, &head)
       && map_copy (net, &head, x)
       && net_branch (net, sfe->rbs, net->config->n_res_blocks[0],
                      &sfe->conv_tail, x, &head, &a, &b);
  if (ok)
    map_swap (x, &head);
  maps_clear (&head, &a, &b);
  return ok;
}

/* Stage 1 (§6.2), in place on x11. */
static gboolean
net_stage1 (Net *net, const RefsrTensor *S, const RefsrTensor *t_lv3,
            RefsrTensor *x11)
{
  const RefsrMainNet *m = net->m;
  RefsrTensor r = { 0 }, a = { 0 }, b = { 0 };
  gboolean ok;

  ok = net_texture_head (net, &m->conv11_head, t_lv3, S, 1, &a, x11)
       && map_copy (net, x11, &r)
       && net_branch (net, m->rb11, net->config->n_res_blocks[1],
                      &m->conv11_tail, &r, x11, &a, &b);
  maps_clear (&r, &a, &b);
  return ok;
}

/* CSFI2 (§6.3): y1 at x1's scale, y2 at x2's (y2 also serves as the
 * scratch for the upsampled x1). */
static gboolean
net_csfi2 (Net *net, const RefsrTensor *x1, const RefsrTensor *x2,
           RefsrTensor *y1, RefsrTensor *y2)
{
  const RefsrCsfi2 *ex = &net->m->ex12;
  RefsrTensor x12 = { 0 }, x21 = { 0 };
  const RefsrTensor *cat1[2] = { x1, &x21 }, *cat2[2] = { x2, &x12 };
  gboolean ok;

  ok = net_upsample (net, x1, 2, y2)
       && net_conv (net, &ex->conv12, y2, 1, REFSR_ACT_RELU, &x12)
       && net_conv (net, &ex->conv21, x2, 2, REFSR_ACT_RELU, &x21)
       && net_conv_cat (net, &ex->conv_merge1, cat1, 2, 1, REFSR_ACT_RELU, y1)
       && net_conv_cat (net, &ex->conv_merge2, cat2, 2, 1, REFSR_ACT_RELU,
                        y2);
  maps_clear (&x12, &x21, NULL);
  return ok;
}

/* Stage 2 (§6.3): x1 (x11 in, x21 out) in place; x2 (x22) is made here. */
static gboolean
net_stage2 (Net *net, const RefsrTensor *S, const RefsrTensor *t_lv2,
            RefsrTensor *x1, RefsrTensor *x2)
{
  const RefsrMainNet *m = net->m;
  int n = net->config->n_res_blocks[2];
  RefsrTensor y1 = { 0 }, y2 = { 0 }, a = { 0 }, b = { 0 };
  gboolean ok;

  ok = net_conv_shuffle (net, &m->conv12, x1, &a, x2)
       && net_texture_head (net, &m->conv22_head, t_lv2, S, 2, &a, x2)
       && net_csfi2 (net, x1, x2, &y1, &y2)
       && net_branch (net, m->rb21, n, &m->conv21_tail, &y1, x1, &a, &b);
  refsr_tensor_clear (&y1);
  ok = ok && net_branch (net, m->rb22, n, &m->conv22_tail, &y2, x2, &a, &b);
  maps_clear (&y2, &a, &b);
  return ok;
}

/* CSFI3's outputs at ×1 and ×2 (§6.4): only small maps are made here. */
static gboolean
net_csfi3_small (Net *net, const RefsrTensor *x1, const RefsrTensor *x2,
                 const RefsrTensor *x3, RefsrTensor *y1, RefsrTensor *y2)
{
  const RefsrCsfi3 *ex = &net->m->ex123;
  RefsrTensor x21 = { 0 }, x31 = { 0 }, half = { 0 }, x12 = { 0 };
  const RefsrTensor *cat1[3] = { x1, &x21, &x31 };
  const RefsrTensor *cat2[3] = { x2, &x12, &half };
  gboolean ok;

  ok = net_conv (net, &ex->conv21, x2, 2, REFSR_ACT_RELU, &x21)
       && net_conv (net, &ex->conv31_1, x3, 2, REFSR_ACT_RELU, &half)
       && net_conv (net, &ex->conv31_2, &half, 2, REFSR_ACT_RELU, &x31)
       && net_conv_cat (net, &ex->conv_merge1, cat1, 3, 1, REFSR_ACT_RELU, y1);
  refsr_tensor_clear (&x21);
  refsr_tensor_clear (&x31);
  /* half: first x1 upsampled ×2, then x32 = ReLU(conv32(x3)) */
  ok = ok && net_upsample (net, x1, 2, &half)
       && net_conv (net, &ex->conv12, &half, 1, REFSR_ACT_RELU, &x12)
       && net_conv (net, &ex->conv32, x3, 2, REFSR_ACT_RELU, &half)
       && net_conv_cat (net, &ex->conv_merge2, cat2, 3, 1, REFSR_ACT_RELU, y2);
  maps_clear (&half, &x12, NULL);
  return ok;
}

/* CSFI3's ×4 output: y3 = ReLU(merge3(cat(x3, x13, x23))); x13 and x23 are
 * left in a and b (the ×4 branch reuses them as scratch). */
static gboolean
net_csfi3_large (Net *net, const RefsrTensor *x1, const RefsrTensor *x2,
                 const RefsrTensor *x3, RefsrTensor *y3, RefsrTensor *a,
                 RefsrTensor *b)
{
  const RefsrCsfi3 *ex = &net->m->ex123;
  const RefsrTensor *cat3[3] = { x3, a, b };

  /* y3 first holds the upsampled x1, then the upsampled x2 */
  return net_upsample (net, x1, 4, y3)
         && net_conv (net, &ex->conv13, y3, 1, REFSR_ACT_RELU, a)
         && net_upsample (net, x2, 2, y3)
         && net_conv (net, &ex->conv23, y3, 1, REFSR_ACT_RELU, b)
         && net_conv_cat (net, &ex->conv_merge3, cat3, 3, 1, REFSR_ACT_RELU,
                          y3);
}

/* The small branches of stage 3: x1 and x2 in place. */
static gboolean
net_stage3_small (Net *net, RefsrTensor *y1, RefsrTensor *y2, RefsrTensor *x1,
                  RefsrTensor *x2)
{
  const RefsrMainNet *m = net->m;
  int n = net->config->n_res_blocks[3];
  RefsrTensor a = { 0 }, b = { 0 };
  gboolean ok;

  ok = net_branch (net, m->rb31, n, &m->conv31_tail, y1, x1, &a, &b);
  maps_clear (y1, &a, &b);
  ok = ok && net_branch (net, m->rb32, n, &m->conv32_tail, y2, x2, &a, &b);
  maps_clear (y2, &a, &b);
  return ok;
}

/* Stage 3 (§6.4): x1, x2 in place, x3 made here.  Leaves three ×4-sized
 * buffers in spare[] for the merge tail. */
static gboolean
net_stage3 (Net *net, const RefsrTensor *S, const RefsrTensor *t_lv1,
            RefsrTensor *x1, RefsrTensor *x2, RefsrTensor *x3,
            RefsrTensor spare[3])
{
  const RefsrMainNet *m = net->m;
  RefsrTensor y1 = { 0 }, y2 = { 0 };
  gboolean ok;

  /* spare[0] holds conv23's 256-channel output, then the head's output */
  ok = net_conv_shuffle (net, &m->conv23, x2, &spare[0], x3)
       && net_texture_head (net, &m->conv33_head, t_lv1, S, 4, &spare[0], x3)
       && net_csfi3_small (net, x1, x2, x3, &y1, &y2)
       && net_csfi3_large (net, x1, x2, x3, &spare[0], &spare[1], &spare[2])
       && net_stage3_small (net, &y1, &y2, x1, x2)
       && net_branch (net, m->rb33, net->config->n_res_blocks[3],
                      &m->conv33_tail, &spare[0], x3, &spare[1], &spare[2]);
  maps_clear (&y1, &y2, NULL);
  return ok;
}

/* MergeTail (§6.5): sr = clamp(tail2(tail1(ReLU(merge(cat(x3, a, b)))))).
 * x3 is freed once merged. */
static gboolean
net_merge_tail (Net *net, const RefsrTensor *x1, const RefsrTensor *x2,
                RefsrTensor *x3, RefsrTensor spare[3], RefsrTensor *sr)
{
  const RefsrMergeTail *mt = &net->m->merge_tail;
  const RefsrTensor *cat[3] = { x3, &spare[1], &spare[2] };
  gsize n;

  if (!net_upsample (net, x1, 4, &spare[0])
      || !net_conv (net, &mt->conv13, &spare[0], 1, REFSR_ACT_RELU, &spare[1])
      || !net_upsample (net, x2, 2, &spare[0])
      || !net_conv (net, &mt->conv23, &spare[0], 1, REFSR_ACT_RELU, &spare[2])
      || !net_conv_cat (net, &mt->conv_merge, cat, 3, 1, REFSR_ACT_RELU,
                        &spare[0]))
    return FALSE;
  refsr_tensor_clear (x3);
  refsr_tensor_clear (&spare[2]);
  if (!net_conv (net, &mt->conv_tail1, &spare[0], 1, REFSR_ACT_NONE,
                 &spare[1])
      || !net_conv (net, &mt->conv_tail2, &spare[1], 1, REFSR_ACT_NONE, sr))
    return FALSE;
  n = refsr_tensor_numel (sr);
  for (gsize i = 0; i < n; i++)
    sr->data[i] = CLAMP (sr->data[i], -1.0f, 1.0f);
  return TRUE;
}

static gboolean
check_map (const RefsrTensor *t, int c, int h, int w, const char *what,
           GError **error)
{
  if (t->data != NULL && t->c == c && t->h == h && t->w == w)
    return TRUE;
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
               "The main network got %s of size %d×%d×%d; it needs %d×%d×%d",
               what, t->c, t->h, t->w, c, h, w);
  return FALSE;
}

static gboolean
check_inputs (const RefsrTensor *lr, const RefsrTensor *S,
              const RefsrTensor *t_lv3, const RefsrTensor *t_lv2,
              const RefsrTensor *t_lv1, const RefsrTensor *sr, GError **error)
{
  int h = lr->h, w = lr->w;

  if (h < 1 || w < 1)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The main network got an empty %d×%d image", w, h);
      return FALSE;
    }
  return check_map (lr, 3, h, w, "an LR image", error)
         && check_map (S, 1, h, w, "a soft-attention map", error)
         && check_map (t_lv3, 256, h, w, "a level-3 texture", error)
         && check_map (t_lv2, 128, 2 * h, 2 * w, "a level-2 texture", error)
         && check_map (t_lv1, 64, 4 * h, 4 * w, "a level-1 texture", error)
         && check_map (sr, 3, 4 * h, 4 * w, "an output buffer", error);
}

gboolean
refsr_mainnet_forward (const RefsrModel *model, const RefsrTensor *lr,
                       const RefsrTensor *S, const RefsrTensor *t_lv3,
                       const RefsrTensor *t_lv2, const RefsrTensor *t_lv1,
                       RefsrTensor *sr, RefsrLayerDone layer_done,
                       void *layer_data, const RefsrExec *exec,
                       GError **error)
{
  Net net = { &model->main, &model->config, exec, layer_done, layer_data,
              0.0, error };
  RefsrTensor x1 = { 0 }, x2 = { 0 }, x3 = { 0 };
  RefsrTensor spare[3] = { { 0 }, { 0 }, { 0 } };
  gboolean ok;

  if (!check_inputs (lr, S, t_lv3, t_lv2, t_lv1, sr, error))
    return FALSE;
  ok = refsr_exec_check (exec, error)
       && net_sfe (&net, lr, &x1)
       && net_stage1 (&net, S, t_lv3, &x1)
       && net_stage2 (&net, S, t_lv2, &x1, &x2)
       && net_stage3 (&net, S, t_lv1, &x1, &x2, &x3, spare)
       && net_merge_tail (&net, &x1, &x2, &x3, spare, sr);
  maps_clear (&x1, &x2, &x3);
  maps_clear (&spare[0], &spare[1], &spare[2]);
  return ok;
}

/* §8.1, from the layer shapes: n_feats F, T channels 256/128/64 fixed by
 * the VGG levels; one "unit" is a 3×3 F→F conv at one pixel. */
double
refsr_mainnet_macs (const RefsrConfig *config, int h, int w)
{
  double f = config->n_feats, half = config->n_feats / 2, p = (double) h * w;
  double unit = 9.0 * f * f, pointwise = f * f;
  const int *n = config->n_res_blocks;
  double x1, x2, x4;

  /* ×1: SFE head and chain, stage-1 head and chain, conv12, CSFI2 conv21
   * and merge1, stage-2 ×1 chain, CSFI3 conv21/conv31_2/merge1, stage-3
   * ×1 chain */
  x1 = 27.0 * f + unit * (2 * n[0] + 1) + 9.0 * (f + 256) * f
       + unit * (2 * n[1] + 1) + 4 * unit + unit + 2 * unit
       + unit * (2 * n[2] + 1) + unit + unit + 3 * unit
       + unit * (2 * n[3] + 1);
  /* ×2: stage-2 head, CSFI2 conv12/merge2, ×2 chain, conv23, CSFI3
   * conv12/conv31_1/conv32/merge2, stage-3 ×2 chain */
  x2 = 9.0 * (f + 128) * f + pointwise + 2 * unit + unit * (2 * n[2] + 1)
       + 4 * unit + pointwise + unit + unit + 3 * unit
       + unit * (2 * n[3] + 1);
  /* ×4: stage-3 head, CSFI3 conv13/conv23/merge3, ×4 chain, merge tail */
  x4 = 9.0 * (f + 64) * f + 2 * pointwise + 3 * unit + unit * (2 * n[3] + 1)
       + 2 * pointwise + 3 * unit + 9.0 * f * half + half * 3.0;
  return p * (x1 + 4.0 * x2 + 16.0 * x4);
}
