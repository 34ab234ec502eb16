/* pixels.h — 8-bit RGB to the network's float maps and back (spec §3.1,
 * §3.4), and rectangles of CHW maps.  Internal to the engine.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_PIXELS_H
#define REFSR_PIXELS_H

#include "tensor.h"

/* Packed u8 RGB rows (stride bytes apart) -> 3×h×w floats v / 127.5 - 1;
 * t is allocated here. */
gboolean refsr_pixels_to_tensor (const guint8 *rgb, int w, int h, int stride,
                                 RefsrTensor *t, GError **error);

/* round-half-to-even((sr + 1) · 127.5), clamped, as torch.round does;
 * rgb is sr->h rows of sr->w · 3 bytes. */
void refsr_tensor_to_pixels (const RefsrTensor *sr, guint8 *rgb);

/* The w × h rectangle at (sx, sy) of every channel of src into (dx, dy)
 * of dst (same channel count). */
void refsr_tensor_copy_rect (const RefsrTensor *src, int sx, int sy,
                             RefsrTensor *dst, int dx, int dy, int w, int h);

#endif
