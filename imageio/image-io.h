/* image-io.h — the imageio library of the refsr command and the tools:
 * reading image files (load.c), writing PNGs with libpng, and
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

/* Images with one side more than REFSR_IO_MAX_ASPECT times the other are
 * refused (REFSR_ERROR_INVALID_INPUT).  A strip such as 65535×1 is within
 * the pixel limit but nothing TTSR can enlarge: its 3×3 features see
 * mostly padding, and it costs the engine more memory per pixel than any
 * other shape (a 65535×1 LR takes minutes and over 5 GB).  Panoramas stay
 * well below 100:1. */
#define REFSR_IO_MAX_ASPECT 100

/* Loads an image file as sRGB-encoded 8-bit RGB (alpha dropped).  The
 * format is told by the first bytes of the file, never by its name:
 * PNG, JPEG and TIFF (8 or 16 bits, grey, palette, RGB, CMYK, with or
 * without alpha, with an embedded ICC profile converted to sRGB) are read
 * with libpng, libjpeg and libtiff; SVG through GEGL.  Other formats
 * (GIF, WebP, BMP, PNM, ...) are refused: GEGL's loaders for them cannot
 * tell a truncated file from a whole one.  The size the file declares is
 * checked against the options before a single row is decoded.  EXIF
 * orientation (JPEG APP1, PNG eXIf, the TIFF Orientation tag) is applied,
 * as GIMP's import does.  A file the libraries report anything wrong with
 * — truncated, a bad checksum, corrupt data — is refused, never partly
 * read.  Nothing is printed.  The cancel flag is polled between rows (an
 * SVG is rendered in one call to librsvg: before and after it).
 * Errors, each naming the file: REFSR_ERROR_IO (unreadable, not an image,
 * an unsupported or corrupt one: "Could not read 'x.png': the file is
 * truncated (row 37 of 120)"), REFSR_ERROR_INVALID_INPUT (too large, or
 * too elongated), REFSR_ERROR_NO_MEMORY, REFSR_ERROR_CANCELLED.
 * options may be NULL.  Call refsr_io_init first. */
gboolean refsr_io_load_image (const char *path,
                              const RefsrIoLoadOptions *options,
                              RefsrIoImage *image, GError **error);
/* The same from bytes in memory (PNG, JPEG and TIFF only), name being
 * what messages call them; used by the fuzzer.  Needs no refsr_io_init. */
gboolean refsr_io_load_image_from_data (const guint8 *data, gsize size,
                                        const char *name,
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
