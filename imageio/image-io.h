/* image-io.h — the imageio library of the refsr command and the tools:
 * reading image files through GEGL, writing PNGs with libpng, and
 * replacing output files atomically.  It uses only the engine's public
 * header.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_IMAGE_IO_H
#define REFSR_IMAGE_IO_H

#include "refsr.h"

typedef struct
{
  int width, height;
  guint8 *pixels; /* R'G'B' u8, packed rows */
} RefsrIoImage;

void refsr_io_init (void);
void refsr_io_exit (void);
/* What a load may take and how it may be stopped. */
typedef struct
{
  gint64 max_pixels;         /* larger images are refused (REFSR_ERROR_
                              * INVALID_INPUT); <= 0: REFSR_MAX_REF_PIXELS */
  const atomic_int *cancel;  /* may be NULL; non-zero stops the decoding
                              * (REFSR_ERROR_CANCELLED) */
} RefsrIoLoadOptions;

/* Loads an image file (PNG, JPEG, TIFF, 8 or 16 bit, grey or RGB, with or
 * without alpha, and whatever else GEGL reads) as sRGB-encoded 8-bit RGB.
 * options may be NULL.  Errors: REFSR_ERROR_IO (unreadable, not an image,
 * corrupt), REFSR_ERROR_INVALID_INPUT (too large), REFSR_ERROR_NO_MEMORY,
 * REFSR_ERROR_CANCELLED; each names the file. */
gboolean refsr_io_load_image (const char *path,
                              const RefsrIoLoadOptions *options,
                              RefsrIoImage *image, GError **error);
/* Encodes 8-bit RGB (packed rows) as PNG in memory. */
GBytes *refsr_io_encode_png (const guint8 *rgb, int width, int height,
                              GError **error);
/* Encodes and writes a PNG with refsr_io_output_write and _commit. */
gboolean refsr_io_save_png (const char *path, const guint8 *rgb, int width,
                            int height, GError **error);

/* An output file that appears whole or not at all: refsr_io_output_write
 * writes it completely (and syncs it) under a temporary name beside path,
 * refsr_io_output_commit renames it into place, refsr_io_output_discard
 * removes it.
 * Errors are REFSR_ERROR_IO naming path and the system's reason.  Commit
 * and discard leave out empty; discarding an empty one does nothing. */
typedef struct
{
  char *path, *tmp;
} RefsrIoOutput;

gboolean refsr_io_output_write (RefsrIoOutput *out, const char *path,
                                const void *data, gsize size, GError **error);
gboolean refsr_io_output_commit (RefsrIoOutput *out, GError **error);
void refsr_io_output_discard (RefsrIoOutput *out);
void refsr_io_image_clear (RefsrIoImage *image);

#endif
