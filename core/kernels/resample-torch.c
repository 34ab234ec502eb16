/* resample-torch.c — PyTorch's bicubic upsampling by 2 or 4.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * F.interpolate (mode='bicubic', align_corners=False) as the network uses
 * it (spec §7.2): A = -0.75, the source coordinate (o + 0.5)/s - 0.5 is not
 * clamped, the four taps are clamped to the map (edge replication), and a
 * 2-D output is Σ_i wy_i · (Σ_j wx_j · in[y_i, x_j]).  Both versions
 * compute every term in that order in float32, so the separable one (which
 * shares each horizontal sum between the output rows that use it) gives
 * the same numbers as the direct one.
 */
#include "resample.h"

#include <math.h>
#include <string.h>
#define TORCH_CUBIC_A (-0.75f)

/* Taps of one output coordinate along one axis. */
typedef struct
{
  int index[4];
  float weight[4];
} TorchTaps;

static inline float
torch_cubic_near (float x) /* |x| <= 1 */
{
  return ((TORCH_CUBIC_A + 2.0f) * x - (TORCH_CUBIC_A + 3.0f)) * x * x + 1.0f;
}

static inline float
torch_cubic_far (float x) /* 1 < |x| < 2 */
{
  return ((TORCH_CUBIC_A * x - 5.0f * TORCH_CUBIC_A) * x
          + 8.0f * TORCH_CUBIC_A) * x - 4.0f * TORCH_CUBIC_A;
}

static inline int
clamp_index (int i, int n)
{
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

static void
torch_taps (int o, int in_len, int factor, TorchTaps *taps)
{
  float src = (1.0f / (float) factor) * ((float) o + 0.5f) - 0.5f;
  float floor_src = floorf (src);
  int i0 = (int) floor_src;
  float t = src - floor_src;

  taps->weight[0] = torch_cubic_far (t + 1.0f);
  taps->weight[1] = torch_cubic_near (t);
  taps->weight[2] = torch_cubic_near (1.0f - t);
  taps->weight[3] = torch_cubic_far (2.0f - t);
  for (int j = 0; j < 4; j++)
    taps->index[j] = clamp_index (i0 - 1 + j, in_len);
}

static inline float
torch_row_sum (const float *row, const TorchTaps *tx)
{
  float acc = tx->weight[0] * row[tx->index[0]];
  for (int j = 1; j < 4; j++)
    acc += tx->weight[j] * row[tx->index[j]];
  return acc;
}

void
refsr_bicubic_upsample_ref (const RefsrTensor *in, int factor,
                            RefsrTensor *out)
{
  g_return_if_fail (out->c == in->c && out->h == in->h * factor
                    && out->w == in->w * factor);

  for (int c = 0; c < in->c; c++)
    {
      const float *plane = in->data + (gsize) c * in->h * in->w;
      for (int y = 0; y < out->h; y++)
        {
          TorchTaps ty;
          torch_taps (y, in->h, factor, &ty);
          for (int x = 0; x < out->w; x++)
            {
              TorchTaps tx;
              float acc;
              torch_taps (x, in->w, factor, &tx);
              acc = ty.weight[0]
                    * torch_row_sum (plane + (gsize) ty.index[0] * in->w, &tx);
              for (int i = 1; i < 4; i++)
                acc += ty.weight[i]
                       * torch_row_sum (plane + (gsize) ty.index[i] * in->w,
                                        &tx);
              out->data[((gsize) c * out->h + y) * out->w + x] = acc;
            }
        }
    }
}

/* One channel: horizontal sums of every input row into rows (in->h ×
 * out->w), then the vertical combination, row by row. */
static void
upsample_plane (const float *plane, int in_h, int in_w, const TorchTaps *tx,
                const TorchTaps *ty, float *rows, float *out, int out_h,
                int out_w)
{
  for (int y = 0; y < in_h; y++)
    {
      const float *src = plane + (gsize) y * in_w;
      float *dst = rows + (gsize) y * out_w;
      for (int x = 0; x < out_w; x++)
        dst[x] = torch_row_sum (src, &tx[x]);
    }
  for (int y = 0; y < out_h; y++)
    {
      const float *r0 = rows + (gsize) ty[y].index[0] * out_w;
      const float *r1 = rows + (gsize) ty[y].index[1] * out_w;
      const float *r2 = rows + (gsize) ty[y].index[2] * out_w;
      const float *r3 = rows + (gsize) ty[y].index[3] * out_w;
      const float *w = ty[y].weight;
      float *dst = out + (gsize) y * out_w;
      for (int x = 0; x < out_w; x++)
        {
          float acc = w[0] * r0[x];
          acc += w[1] * r1[x];
          acc += w[2] * r2[x];
          acc += w[3] * r3[x];
          dst[x] = acc;
        }
    }
}

static void
upsample_channels (const RefsrTensor *in, RefsrTensor *out,
                   const TorchTaps *tx, const TorchTaps *ty,
                   const RefsrScratch *rows_scratch)
{
#pragma omp parallel for num_threads(rows_scratch->n_threads) schedule(static)
  for (int c = 0; c < in->c; c++)
    {
      float *rows = refsr_scratch_mine (rows_scratch);

      upsample_plane (in->data + (gsize) c * in->h * in->w, in->h, in->w, tx,
                      ty, rows, out->data + (gsize) c * out->h * out->w,
                      out->h, out->w);
    }
}

void
refsr_bicubic_upsample (const RefsrTensor *in, int factor, RefsrTensor *out,
                        const RefsrExec *exec)
{
  int n_threads = refsr_exec_threads (exec);
  TorchTaps *tx, *ty;
  RefsrScratch rows = { 0 };

  g_return_if_fail (out->c == in->c && out->h == in->h * factor
                    && out->w == in->w * factor);
  if (n_threads > in->c)
    n_threads = MAX (in->c, 1);

  tx = g_try_new (TorchTaps, out->w);
  ty = g_try_new (TorchTaps, out->h);
  if (tx == NULL || ty == NULL
      || !refsr_scratch_alloc (&rows, n_threads, (gsize) in->h * out->w,
                               NULL))
    {
      /* The scratch is a small fraction of out; without it, fall back to
       * the direct loop, which needs none and gives the same numbers. */
      g_free (tx);
      g_free (ty);
      refsr_bicubic_upsample_ref (in, factor, out);
      return;
    }
  for (int x = 0; x < out->w; x++)
    torch_taps (x, in->w, factor, &tx[x]);
  for (int y = 0; y < out->h; y++)
    torch_taps (y, in->h, factor, &ty[y]);
  upsample_channels (in, out, tx, ty, &rows);
  g_free (tx);
  g_free (ty);
  refsr_scratch_clear (&rows);
}
