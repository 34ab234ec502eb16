/* pixels.c — u8 RGB and float maps; refsr_resize_rgb.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "pixels.h"
#include "resample.h"

#include <math.h>
#include <string.h>

gboolean
refsr_pixels_to_tensor (const guint8 *rgb, int w, int h, int stride,
                        RefsrTensor *t, GError **error)
{
  if (!refsr_tensor_alloc (t, 3, h, w, error))
    return FALSE;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        t->data[((gsize) c * h + y) * w + x]
            = (float) rgb[(gsize) y * stride + 3 * x + c] / 127.5f - 1.0f;
  return TRUE;
}

/* rintf rounds half to even in the default rounding mode */
void
refsr_tensor_to_pixels (const RefsrTensor *sr, guint8 *rgb)
{
  gsize plane = (gsize) sr->h * sr->w;

  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = rintf ((sr->data[c * plane + i] + 1.0f) * 127.5f);
        rgb[3 * i + c] = (guint8) CLAMP (v, 0.0f, 255.0f);
      }
}

void
refsr_tensor_copy_rect (const RefsrTensor *src, int sx, int sy,
                        RefsrTensor *dst, int dx, int dy, int w, int h)
{
  for (int c = 0; c < src->c; c++)
    for (int y = 0; y < h; y++)
      memcpy (dst->data + ((gsize) c * dst->h + dy + y) * dst->w + dx,
              src->data + ((gsize) c * src->h + sy + y) * src->w + sx,
              (gsize) w * sizeof (float));
}

gboolean
refsr_resize_rgb (const RefsrImage *in, guint8 *out, int width, int height,
                  GError **error)
{
  return refsr_pil_resize (in->pixels, in->width, in->height, in->rowstride,
                           3, out, width, height, error);
}
