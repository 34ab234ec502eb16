/* refsr-gegl.h — moving pixels between GIMP drawables (through GEGL) and
 * the engine's plain 8-bit RGB buffers, and GEGL resampling of the results.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_GEGL_H
#define REFSR_GEGL_H

#include <libgimp/gimp.h>

#include "refsr.h"

G_BEGIN_DECLS

/* A drawable's colour as the engine takes it: R'G'B' u8, interleaved. */
typedef struct
{
  guint8 *rgb;
  int width;
  int height;
} RefsrGeglPixels;

/* Every pixel format below is built on the target layer's own colour space
 * (its ICC profile), so no hidden conversion to sRGB happens on the way in
 * or out.  The colour model is the target's too: for a grey target, the
 * reference is read as grey as well and both are replicated into the
 * engine's three channels. */
const Babl *refsr_gegl_space_of (GimpDrawable *target);

/* Reads drawable (which may belong to another image) in the model and space
 * of target. */
gboolean refsr_gegl_read_rgb (GimpDrawable *drawable, GimpDrawable *target,
                              RefsrGeglPixels *pixels, GError **error);
void refsr_gegl_pixels_clear (RefsrGeglPixels *pixels);

/* The drawable's alpha as a one-channel "Y float" buffer (Y is only the
 * carrier: the values are the alpha, untouched). */
GeglBuffer *refsr_gegl_read_alpha (GimpDrawable *drawable, GError **error);

/* The engine's 4x result as an "R'G'B' float" buffer in space.  For 8-bit
 * work the exact bytes the engine rounded are used, so an 8-bit layer holds
 * the same values as the refsr command writes; otherwise the unrounded
 * float output is kept. */
GeglBuffer *refsr_gegl_result_color (const RefsrResult *result,
                                     const Babl *space, gboolean exact_u8,
                                     GError **error);
/* The soft-attention map S (LR size) as a "Y' float" buffer, so a value of
 * 0.5 shows as mid grey. */
GeglBuffer *refsr_gegl_result_confidence (const RefsrResult *result,
                                          const Babl *space, GError **error);

/* A new buffer of width x height (same format) resampled from src with
 * GEGL's own high-quality samplers: NoHalo to enlarge, LoHalo to reduce,
 * pixel centres onto pixel centres, edges clamped so the border does not
 * fade into the empty space around the buffer. */
GeglBuffer *refsr_gegl_resample (GeglBuffer *src, int width, int height,
                                 GError **error);

/* Writes color (converted to the layer's model) and, when the layer has an
 * alpha channel, alpha into layer, which has the size of both buffers. */
gboolean refsr_gegl_write_layer (GimpLayer *layer, GeglBuffer *color,
                                 GeglBuffer *alpha, const Babl *space,
                                 GError **error);

G_END_DECLS

#endif /* REFSR_GEGL_H */
