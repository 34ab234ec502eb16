/* image-io.h — reading image files for the refsr command through GEGL,
 * writing PNGs with libpng, and replacing output files atomically.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_IMAGE_IO_H
#define REFSR_IMAGE_IO_H

#include <glib.h>

typedef struct
{
  int width, height;
  guint8 *pixels; /* R'G'B' u8, packed rows */
} CliImage;

void cli_image_io_init (void);
void cli_image_io_exit (void);
/* Loads any file GEGL reads (PNG, JPEG, TIFF, 8 or 16 bit, grey or RGB,
 * with or without alpha) as sRGB-encoded 8-bit RGB. */
gboolean cli_image_load (const char *path, CliImage *image, GError **error);
/* Encodes 8-bit RGB (packed rows) as PNG in memory. */
GBytes *cli_image_encode_png (const guint8 *rgb, int width, int height,
                              GError **error);
/* Encodes and writes a PNG with cli_output_write and _commit. */
gboolean cli_image_save_png (const char *path, const guint8 *rgb, int width,
                             int height, GError **error);

/* An output file that appears whole or not at all: cli_output_write
 * writes it completely (and syncs it) under a temporary name beside path,
 * cli_output_commit renames it into place, cli_output_discard removes it.
 * Errors are REFSR_ERROR_IO naming path and the system's reason.  Commit
 * and discard leave out empty; discarding an empty one does nothing. */
typedef struct
{
  char *path, *tmp;
} CliOutput;

gboolean cli_output_write (CliOutput *out, const char *path, const void *data,
                           gsize size, GError **error);
gboolean cli_output_commit (CliOutput *out, GError **error);
void cli_output_discard (CliOutput *out);
void cli_image_clear (CliImage *image);

#endif
