/* image-io.h — reading and writing image files for the refsr command,
 * through GEGL.
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
/* Writes 8-bit RGB as PNG: to a temporary file first, renamed into place
 * when complete, so a failure never leaves a partial file. */
gboolean cli_image_save_png (const char *path, const guint8 *rgb, int width,
                             int height, GError **error);
void cli_image_clear (CliImage *image);

#endif
