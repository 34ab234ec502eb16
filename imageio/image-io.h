/* image-io.h — the imageio library of the refsr command and the tools:
 * reading image files (load*.c), writing PNGs with libpng, replacing
 * output files atomically, and checking inputs and outputs before a run
 * (file-check.c).  It uses only the engine's public
 * header.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_IMAGE_IO_H
#define REFSR_IMAGE_IO_H

#include "refsr.h"

typedef struct
{
  int width, height;
  guint8 *pixels; /* R'G'B' u8, packed rows */
  int bit_depth;  /* of the file's samples: 16 for a 16-bit PNG or TIFF,
                   * otherwise 8 (the pixels are 8-bit either way) */
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
/* The same for 8-bit grey, one byte per pixel. */
GBytes *refsr_io_encode_png_grey (const guint8 *grey, int width, int height,
                                  GError **error);
/* The same for 16-bit RGB (host order, packed rows): a 16-bit PNG,
 * marked sRGB like the 8-bit ones. */
GBytes *refsr_io_encode_png16 (const guint16 *rgb, int width, int height,
                               GError **error);
/* Encodes and writes a PNG with refsr_io_output_write and _commit. */
gboolean refsr_io_save_png (const char *path, const guint8 *rgb, int width,
                            int height, GError **error);

/* An output that appears whole or not at all.  A file:
 * refsr_io_output_write refuses what is not a regular file (a folder, a
 * device, a FIFO, a socket; see refsr_io_check_output), writes the data
 * completely (and syncs it) under a temporary name beside path, and
 * refsr_io_output_commit renames it into place.  A symbolic link is kept
 * and the file it points to replaced; a file that is replaced keeps its
 * permission bits, and its owner and group where the system allows.  A
 * stream: refsr_io_output_write_fd keeps a copy of the data and
 * refsr_io_output_commit writes it all to fd (syncing it when fd is a
 * regular file), so that a command can write its other outputs first and
 * the stream last.  refsr_io_output_discard removes the temporary file or
 * drops the data; fd is never closed.
 * The write calls need no initialised out; on failure they leave it empty.
 * Commit and discard leave it empty; discarding an empty one (zeroed, or
 * left by a failure) does nothing.  Errors are REFSR_ERROR_IO naming path
 * (or name) and the reason. */
typedef struct
{
  char *name;      /* as given, for messages */
  char *path;      /* the file replaced: path, or a symbolic link's file */
  char *tmp;       /* the temporary file until commit */
  GBytes *stream;  /* a stream's data until commit */
  int fd;          /* a stream's descriptor, -1 for a file */
} RefsrIoOutput;

gboolean refsr_io_output_write (RefsrIoOutput *out, const char *path,
                                const void *data, gsize size, GError **error);
gboolean refsr_io_output_write_fd (RefsrIoOutput *out, int fd,
                                   const char *name, const void *data,
                                   gsize size, GError **error);
gboolean refsr_io_output_commit (RefsrIoOutput *out, GError **error);
void refsr_io_output_discard (RefsrIoOutput *out);

/* Checks made before any work, so that a run that could only fail or
 * destroy a file at its end is refused at its start.
 *
 * refsr_io_check_output: path can take an output: refuses an empty name,
 * a name ending in '/', a folder that is missing or takes no new files (a
 * temporary file is created there and removed again, which permissions
 * alone do not tell as root or on a read-only mount), an existing target
 * that is not a regular file (a folder, device node, FIFO, socket, a
 * symbolic link to nothing) or may not be written, and a target that is
 * the same file as one of inputs (NULL-terminated, may be NULL; compared
 * by device and inode, so a symbolic or hard link to an input counts; a
 * path that does not exist yet is no input).  *target (may be NULL)
 * receives the file that will be replaced: path when it does not exist
 * yet, otherwise its canonical path (a symbolic link's file).
 * refsr_io_check_output_fd: fd (standard output, for "-o -") can take an
 * output: open, not a terminal, and not a file that is one of inputs (as
 * with ">> input.png").  name is what messages call it.
 * refsr_io_check_input: path is an existing regular file that may be read
 * ("no such file", "it is a folder", ...); refsr_io_load_image makes its
 * own checks as it reads.
 * Errors: REFSR_ERROR_IO, one line naming the file and the reason. */
gboolean refsr_io_check_output (const char *path, const char *const *inputs,
                                char **target, GError **error);
gboolean refsr_io_check_output_fd (int fd, const char *name,
                                   const char *const *inputs, GError **error);
gboolean refsr_io_check_input (const char *path, GError **error);
/* Whether a and b name the same file: by device and inode when both
 * exist, otherwise by their canonical paths (absolute, links resolved). */
gboolean refsr_io_same_file (const char *a, const char *b);
/* Whether fd is open on the file path names. */
gboolean refsr_io_same_file_fd (int fd, const char *path);
void refsr_io_image_clear (RefsrIoImage *image);

#endif
