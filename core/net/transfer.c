/* transfer.c — hard-attention texture transfer: copy-add the reference
 * feature patch chosen by the search into each LR position's place
 * (spec §5.2 step 3), bit-identical to PyTorch's unfold/gather/fold/9.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "refsr-config.h"

#include <string.h>

#include "spill.h"
#include "transfer.h"

/* Reference: the order of PyTorch's CPU fold, which is what makes the
 * result bit-identical — kernel offset (a, b) outermost in raster order,
 * then the LR positions p in raster order, then a true division by 9. */
void
refsr_transfer_ref (const RefsrTensor *value, int scale, const gint64 *idx,
                    int h, int w, RefsrTensor *out)
{
  int k = 3 * scale;
  int key_w = value->w / scale;

  g_return_if_fail (out->c == value->c && out->h == scale * h
                    && out->w == scale * w);

  memset (out->data, 0, refsr_tensor_numel (out) * sizeof (float));
  for (int c = 0; c < value->c; c++)
    {
      const float *src = value->data + (gsize) c * value->h * value->w;
      float *dst = out->data + (gsize) c * out->h * out->w;

      for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++)
          for (int p = 0; p < h * w; p++)
            {
              int qy = idx[p] / key_w, qx = idx[p] % key_w;
              int dy = scale * (p / w) - scale + a;
              int dx = scale * (p % w) - scale + b;
              int sy = scale * qy - scale + a, sx = scale * qx - scale + b;

              /* A source outside the reference is a zero of the padding;
               * adding +0 to a sum that started at +0 changes nothing. */
              if (dy < 0 || dy >= out->h || dx < 0 || dx >= out->w
                  || sy < 0 || sy >= value->h || sx < 0 || sx >= value->w)
                continue;
              dst[(gsize) dy * out->w + dx] += src[(gsize) sy * value->w + sx];
            }
    }

  for (gsize i = 0; i < refsr_tensor_numel (out); i++)
    out->data[i] = out->data[i] / 9.0f;
}

/* Fast version.  In the reference order, an output element receives the
 * patches of its (up to 9) contributing positions p in increasing (a, b),
 * and since a = dy − scale·y + scale falls as y grows (likewise b with x),
 * that is decreasing p.  So adding whole patches for p = P−1 down to 0
 * performs, element by element, the same additions in the same order —
 * bit-identical — while each patch row becomes a contiguous run.  A block
 * of channels shares the patch geometry, worked out once per p; the block
 * is kept small enough for its source and destination planes to stay in
 * a typical L2 cache (BLOCK_FLOATS). */
#define MAX_CHANNEL_BLOCK 8
#define BLOCK_FLOATS (256 * 1024)

/* The member of the pool that holds index i: the last whose base is
 * <= i (a pool has a handful of members). */
static int
member_of (const RefsrTransferPool *pool, gint64 i)
{
  int m = pool->n - 1;

  while (m > 0 && pool->bases[m] > i)
    m--;
  return m;
}

static void
transfer_channels (const RefsrTransferPool *pool, int scale,
                   const gint64 *idx, int h, int w, RefsrTensor *out,
                   int c_first, int c_end)
{
  int k = 3 * scale;
  gsize dst_plane = (gsize) out->h * out->w;

  memset (out->data + c_first * dst_plane, 0,
          (c_end - c_first) * dst_plane * sizeof (float));
  for (int p = h * w - 1; p >= 0; p--)
    {
      int m = member_of (pool, idx[p]);
      const RefsrTensor *value = pool->values[m];
      gint64 q = idx[p] - pool->bases[m];
      int key_w = value->w / scale;
      gsize src_plane = (gsize) value->h * value->w;
      int dy0 = scale * (p / w) - scale, dx0 = scale * (p % w) - scale;
      int sy0 = scale * (int) (q / key_w) - scale;
      int sx0 = scale * (int) (q % key_w) - scale;
      /* Offsets (a, b) for which both source and destination are inside. */
      int a_first = MAX (MAX (-dy0, -sy0), 0);
      int a_end = MIN (MIN (out->h - dy0, value->h - sy0), k);
      int b_first = MAX (MAX (-dx0, -sx0), 0);
      int b_end = MIN (MIN (out->w - dx0, value->w - sx0), k);

      for (int c = c_first; c < c_end; c++)
        for (int a = a_first; a < a_end; a++)
          {
            float *d = out->data + c * dst_plane
                       + (gsize) (dy0 + a) * out->w + dx0;
            const float *s = value->data + c * src_plane
                             + (gsize) (sy0 + a) * value->w + sx0;

            for (int b = b_first; b < b_end; b++)
              d[b] += s[b];
          }
    }

  for (gsize i = c_first * dst_plane; i < c_end * dst_plane; i++)
    out->data[i] = out->data[i] / 9.0f;
  /* these channels are not read again: spilled, they leave the resident
   * set, which then holds about one block per thread (plan.c) */
  for (int m = 0; m < pool->n; m++)
    {
      gsize src_plane = (gsize) pool->values[m]->h * pool->values[m]->w;

      refsr_tensor_release_range (pool->values[m], c_first * src_plane,
                                  (c_end - c_first) * src_plane);
    }
}

void
refsr_transfer_pool (const RefsrTransferPool *pool, int scale,
                     const gint64 *idx, int h, int w, RefsrTensor *out,
                     const RefsrExec *exec)
{
  gsize largest = 0;

  for (int m = 0; m < pool->n; m++)
    {
      g_return_if_fail (out->c == pool->values[m]->c);
      largest = MAX (largest,
                     (gsize) pool->values[m]->h * pool->values[m]->w);
    }
  g_return_if_fail (pool->n >= 1 && out->h == scale * h
                    && out->w == scale * w);

  G_GNUC_UNUSED int n_threads = refsr_exec_threads (exec);
  gsize planes = largest + (gsize) out->h * out->w;
  int block = (int) CLAMP (BLOCK_FLOATS / planes, 1, MAX_CHANNEL_BLOCK);
  int n_blocks = (out->c + block - 1) / block;

#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (int b = 0; b < n_blocks; b++)
    transfer_channels (pool, scale, idx, h, w, out, b * block,
                       MIN ((b + 1) * block, out->c));
}

void
refsr_transfer (const RefsrTensor *value, int scale, const gint64 *idx,
                int h, int w, RefsrTensor *out, const RefsrExec *exec)
{
  const gint64 bases[2] = { 0, (gint64) (value->h / scale)
                                   * (value->w / scale) };
  RefsrTransferPool pool = { &value, bases, 1 };

  refsr_transfer_pool (&pool, scale, idx, h, w, out, exec);
}
