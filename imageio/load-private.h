/* load-private.h — what the image readers of imageio share: the input (an
 * open file or bytes in memory), the limits and cancel flag of one load,
 * the error messages, the conversion of decoded rows to sRGB-encoded
 * 8-bit RGB through babl, and EXIF orientation.
 *
 * A reader (load-png.c, load-jpeg.c, load-tiff.c, load-gegl.c) reads the
 * header first and calls refsr_io_check_size before it decodes a single
 * row; it polls refsr_io_cancelled between rows; any error or warning of
 * the library about the pixels ends the load with REFSR_ERROR_IO naming
 * the file, and no library prints anything.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_LOAD_PRIVATE_H
#define REFSR_LOAD_PRIVATE_H

#include <stdio.h>

#include <babl/babl.h>

#include "image-io.h"

/* One load: where the bytes come from and what the load may take. */
typedef struct
{
  const char *name;          /* the file as messages name it (one line) */
  char *shown_name;          /* owns it */
  const char *path;          /* the file on disk, or NULL for memory */
  FILE *file;                /* open at the start, or NULL for memory */
  const guint8 *data;        /* the bytes, when read from memory */
  gsize size;                /* the number of bytes (files: at open) */
  gsize pos;                 /* read position, memory only */
  gboolean hit_end;          /* a read came short: the file ends early */
  gboolean read_failed;      /* the system reported a read error */
  gint64 max_pixels;
  int max_aspect;
  const atomic_int *cancel;
  int bit_depth;             /* of the samples, set by the format's reader
                              * (16 for 16-bit, otherwise 8 or 0) */
} RefsrIoReader;

/* Reads up to n bytes at the current position; returns how many were
 * read, fewer only at the end of the data (hit_end is then set) or on a
 * read error (read_failed). */
gsize refsr_io_read (RefsrIoReader *r, void *buffer, gsize n);
/* Moves the read position; FALSE when out of range or on an error. */
gboolean refsr_io_seek (RefsrIoReader *r, guint64 offset);
guint64 refsr_io_tell (RefsrIoReader *r);

/* The declared size, checked before anything is decoded: positive, at
 * most max_pixels and at most max_aspect times as long as wide. */
gboolean refsr_io_check_size (const RefsrIoReader *r, gint64 width,
                              gint64 height, GError **error);
/* TRUE (with REFSR_ERROR_CANCELLED) when the cancel flag is raised. */
gboolean refsr_io_cancelled (const RefsrIoReader *r, GError **error);
/* REFSR_ERROR_IO: "Could not read 'NAME': WHAT". */
void refsr_io_set_error (GError **error, const RefsrIoReader *r,
                         const char *format, ...) G_GNUC_PRINTF (3, 4);
/* Why the reading stopped early, for messages: "the file is truncated"
 * or the system's read error. */
const char *refsr_io_short_read_reason (const RefsrIoReader *r);
/* The error of a decoder that stopped at `at` ("row 3 of 20"): the short
 * read when the data ran out (ran_out, or a read error), else "the file
 * is corrupt (MESSAGE, AT)", or "(AT)" without a message. */
void refsr_io_set_decode_error (GError **error, const RefsrIoReader *r,
                                gboolean ran_out, const char *message,
                                const char *at);
/* width × height × bytes_per_pixel bytes, zeroed, or NULL with
 * REFSR_ERROR_NO_MEMORY. */
guint8 *refsr_io_alloc_pixels (const RefsrIoReader *r, gint64 width,
                               gint64 height, gsize bytes_per_pixel,
                               GError **error);

/* The colour models an embedded ICC profile is matched against. */
typedef enum
{
  REFSR_IO_MODEL_GRAY,
  REFSR_IO_MODEL_RGB,
  REFSR_IO_MODEL_CMYK
} RefsrIoModel;

/* The babl space of an embedded ICC profile, or NULL (sRGB, or the
 * naive CMYK conversion) when the profile is unusable or made for another
 * colour model; GIMP also ignores such profiles. */
const Babl *refsr_io_icc_space (const guint8 *icc, gsize size,
                                RefsrIoModel model);
/* The conversion of rows of encoding (a babl format name, in space, NULL
 * for sRGB) to packed sRGB-encoded R'G'B' u8: grey is copied to the three
 * channels, alpha dropped (premultiplied formats are divided first),
 * 16 bits rounded to 8. */
const Babl *refsr_io_row_fish (const char *encoding, const Babl *space);

/* Fills image from a decoded buffer of width × height packed RGB (taken
 * over: freed or kept), turned upright for EXIF orientation 1–8, with
 * r->bit_depth. */
gboolean refsr_io_finish (const RefsrIoReader *r, guint8 *rgb, int width,
                          int height, int orientation, RefsrIoImage *image,
                          GError **error);

/* orientation.c */
/* The orientation (1–8) in TIFF-structured EXIF data ("II*\0" or
 * "MM\0*", optionally after "Exif\0\0"); 1 when absent or unreadable. */
int refsr_io_exif_orientation (const guint8 *exif, gsize size);
/* The width and height once turned upright. */
void refsr_io_oriented_size (int orientation, int width, int height,
                             int *out_width, int *out_height);
/* Writes the packed RGB image src, stored with orientation, upright into
 * dst (of refsr_io_oriented_size); orientation 1 is a copy. */
void refsr_io_orient (const guint8 *src, int width, int height,
                      int orientation, guint8 *dst);

/* While a GEGL load runs, GLib messages are kept instead of printed
 * (load.c's log writer); _end returns the first one (g_free it) or NULL. */
void refsr_io_capture_begin (void);
char *refsr_io_capture_end (void);

/* The readers.  Each is called with the reader positioned at the start
 * and fills image, or returns FALSE with error set. */
gboolean refsr_io_load_png (RefsrIoReader *r, RefsrIoImage *image,
                            GError **error);
gboolean refsr_io_load_jpeg (RefsrIoReader *r, RefsrIoImage *image,
                             GError **error);
gboolean refsr_io_load_tiff (RefsrIoReader *r, RefsrIoImage *image,
                             GError **error);
/* Formats read through a GEGL loader (from files only). */
gboolean refsr_io_load_gegl (RefsrIoReader *r, const char *operation,
                             const char *format_name, RefsrIoImage *image,
                             GError **error);

#endif
