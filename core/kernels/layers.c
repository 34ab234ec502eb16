/* layers.c — pixel shuffle, max-pool and the element-wise additions.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "layers.h"

/* These layers are memory-bound and simple: each output element depends
 * on its own inputs only, so splitting rows over threads cannot change
 * a result. */

void
refsr_pixel_shuffle2_relu (const RefsrTensor *in, RefsrTensor *out,
                           const RefsrExec *exec)
{
  const int h = in->h, w = in->w, rows = out->c * h;

  g_return_if_fail (in->c == 4 * out->c && out->h == 2 * h
                    && out->w == 2 * w);

#pragma omp parallel for num_threads(refsr_exec_threads (exec))
  for (int row = 0; row < rows; row++)
    {
      int c = row / h, y = row % h;

      for (int i = 0; i < 2; i++)
        {
          float *dst = out->data + ((gsize) c * out->h + 2 * y + i) * out->w;
          const float *even = in->data
                              + (((gsize) 4 * c + 2 * i) * h + y) * w;
          const float *odd = even + (gsize) h * w;

          for (int x = 0; x < w; x++)
            {
              dst[2 * x] = MAX (even[x], 0.0f);
              dst[2 * x + 1] = MAX (odd[x], 0.0f);
            }
        }
    }
}

void
refsr_maxpool2 (const RefsrTensor *in, RefsrTensor *out,
                const RefsrExec *exec)
{
  const int rows = out->c * out->h;

  g_return_if_fail (out->c == in->c && out->h == in->h / 2
                    && out->w == in->w / 2);

#pragma omp parallel for num_threads(refsr_exec_threads (exec))
  for (int row = 0; row < rows; row++)
    {
      int c = row / out->h, y = row % out->h;
      const float *top = in->data + ((gsize) c * in->h + 2 * y) * in->w;
      const float *bottom = top + in->w;
      float *dst = out->data + (gsize) row * out->w;

      for (int x = 0; x < out->w; x++)
        {
          float m = MAX (top[2 * x], top[2 * x + 1]);

          m = MAX (m, bottom[2 * x]);
          m = MAX (m, bottom[2 * x + 1]);
          dst[x] = m;
        }
    }
}

void
refsr_add_scaled (RefsrTensor *x, const RefsrTensor *t, const RefsrTensor *s,
                  const RefsrExec *exec)
{
  const gsize plane = (gsize) x->h * x->w;

  g_return_if_fail (t->c == x->c && t->h == x->h && t->w == x->w);
  g_return_if_fail (s->c == 1 && s->h == x->h && s->w == x->w);

#pragma omp parallel for num_threads(refsr_exec_threads (exec))
  for (int c = 0; c < x->c; c++)
    {
      float *dst = x->data + c * plane;
      const float *src = t->data + c * plane;

      for (gsize i = 0; i < plane; i++)
        dst[i] += src[i] * s->data[i];
    }
}

void
refsr_add (RefsrTensor *x, const RefsrTensor *y, const RefsrExec *exec)
{
  const gsize n = refsr_tensor_numel (x);
  const gsize chunk = 1 << 16;
  const gsize n_chunks = (n + chunk - 1) / chunk;

  g_return_if_fail (y->c == x->c && y->h == x->h && y->w == x->w);

#pragma omp parallel for num_threads(refsr_exec_threads (exec))
  for (gsize k = 0; k < n_chunks; k++)
    {
      gsize end = MIN (n, (k + 1) * chunk);

      for (gsize i = k * chunk; i < end; i++)
        x->data[i] += y->data[i];
    }
}
