/* conv2d.c — 2-D convolution over a channel concatenation of inputs.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "conv2d.h"

/* The input channel ci of the concatenation, or NULL past the end. */
static const float *
concat_channel (const RefsrTensor *const *inputs, int n_inputs, int ci)
{
  for (int t = 0; t < n_inputs; t++)
    {
      if (ci < inputs[t]->c)
        return inputs[t]->data + (gsize) ci * inputs[t]->h * inputs[t]->w;
      ci -= inputs[t]->c;
    }
  return NULL;
}

void
refsr_conv2d_ref (const RefsrConv *conv, const RefsrTensor *const *inputs,
                  int n_inputs, int stride, RefsrAct act, RefsrTensor *out)
{
  const int h = inputs[0]->h, w = inputs[0]->w;
  const int k = conv->k, pad = k / 2;

  for (int co = 0; co < out->c; co++)
    for (int oy = 0; oy < out->h; oy++)
      for (int ox = 0; ox < out->w; ox++)
        {
          float sum = 0.0f;

          for (int ci = 0; ci < conv->cin; ci++)
            {
              const float *plane = concat_channel (inputs, n_inputs, ci);
              const float *wk = conv->weight
                                + ((gsize) co * conv->cin + ci) * k * k;

              for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                  {
                    int y = oy * stride - pad + ky;
                    int x = ox * stride - pad + kx;

                    if (y >= 0 && y < h && x >= 0 && x < w)
                      sum += wk[ky * k + kx] * plane[(gsize) y * w + x];
                  }
            }
          if (conv->bias != NULL)
            sum += conv->bias[co];
          if (act == REFSR_ACT_RELU && sum < 0.0f)
            sum = 0.0f;
          out->data[((gsize) co * out->h + oy) * out->w + ox] = sum;
        }
}

gboolean
refsr_conv2d (const RefsrConv *conv, const RefsrTensor *const *inputs,
              int n_inputs, int stride, RefsrAct act, RefsrTensor *out,
              const RefsrExec *exec, GError **error)
{
  if (!refsr_exec_check (exec, error))
    return FALSE;
  refsr_conv2d_ref (conv, inputs, n_inputs, stride, act, out);
  return TRUE;
}
