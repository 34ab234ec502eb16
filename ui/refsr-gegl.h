/* refsr-gegl.h — moving pixels between GIMP drawables (through GEGL) and
 * the engine's plain 8-bit RGB buffers, and writing the engine's output
 * into a layer part by part, with GEGL resampling where sizes differ.
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

/* The engine's float output of one tile, planar [3][height][width] in
 * [-1, 1], rows y0 .. y0 + rows - 1 of it, as interleaved [0, 1] R'G'B'
 * floats in out (rows × width × 3). */
void refsr_gegl_interleave_planes (const float *sr, int width, int height,
                                   int y0, int rows, float *out);

/* The soft-attention map S (LR size) as a "Y' float" buffer, so a value of
 * 0.5 shows as mid grey. */
GeglBuffer *refsr_gegl_result_confidence (const RefsrResult *result,
                                          const Babl *space, GError **error);

/* Writes pixels into a layer that is not yet in the image (its undo does
 * not matter), one rectangle at a time, in any order.  The colour comes in
 * as R'G'B' (u8 or float) or Y' float of the target's space and is
 * converted to the layer's model (for a grey layer R'G'B' becomes Y' with
 * the luminance of the image's own primaries, as GIMP's Image ▸ Mode ▸
 * Grayscale does).  When the layer has an alpha channel, each rectangle's
 * alpha is sampled from the target's, enlarged to the layer's size with
 * the samplers of refsr_gegl_writer_put_resampled. */
typedef struct RefsrGeglWriter RefsrGeglWriter;

RefsrGeglWriter *refsr_gegl_writer_new (GimpLayer *layer,
                                        GimpDrawable *target,
                                        GError **error);
/* pixels: rect->height rows of rect->width pixels of format, packed. */
gboolean refsr_gegl_writer_put (RefsrGeglWriter *writer,
                                const GeglRectangle *rect,
                                const Babl *format, const void *pixels,
                                GError **error);
/* Fills the whole layer from src, resampled to the layer's size with
 * GEGL's own high-quality samplers: NoHalo to enlarge, LoHalo to reduce,
 * pixel centres onto pixel centres, edges clamped so the border does not
 * fade into the empty space around the buffer.  A src of the layer's size
 * is copied as it is.  The progress bar moves from progress_from to
 * progress_to on the way. */
gboolean refsr_gegl_writer_put_resampled (RefsrGeglWriter *writer,
                                          GeglBuffer *src,
                                          double progress_from,
                                          double progress_to,
                                          GError **error);
/* Flushes what was written to GIMP and frees the writer (NULL is ignored). */
void refsr_gegl_writer_free (RefsrGeglWriter *writer);

/* The plug-in's progress calls, all of which go through these: GIMP's
 * gimp_progress_init, _set_text and _update, and, when the environment
 * variable REFSR_PROGRESS_LOG names a file, a line appended there for
 * each ("START text", "TEXT text", "VALUE fraction seconds", the seconds
 * since the process's first call, after a "RUN" line per process).  Tests read it: GIMP 3.0 does not route a called
 * plug-in's progress to a calling plug-in's progress vtable (the vtable
 * cannot be installed, see tests/plugin/test-progress.sh). */
void refsr_progress_init (const char *text);
void refsr_progress_set_text (const char *text);
void refsr_progress_update (double fraction);

G_END_DECLS

#endif /* REFSR_GEGL_H */
