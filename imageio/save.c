/* save.c — writing PNGs with libpng, and output files that appear whole
 * or not at all.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "image-io.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <png.h>
#include <string.h>
#include <unistd.h>

static gboolean
write_all (int fd, const guint8 *data, gsize size)
{
  while (size > 0)
    {
      gssize n = write (fd, data, MIN (size, (gsize) G_MAXSSIZE));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      data += n;
      size -= (gsize) n;
    }
  return TRUE;
}

static gboolean
io_error (const char *path, int errsv, GError **error)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO, "Could not write '%s': %s",
               path, g_strerror (errsv));
  return FALSE;
}

gboolean
refsr_io_output_write (RefsrIoOutput *out, const char *path,
                       const void *data, gsize size, GError **error)
{
  int fd, errsv;
  gboolean ok;

  out->path = g_strdup (path);
  out->tmp = g_strdup_printf ("%s.XXXXXX", path);
  fd = g_mkstemp_full (out->tmp, O_WRONLY, 0666);
  if (fd < 0)
    {
      errsv = errno;
      g_clear_pointer (&out->tmp, g_free); /* not ours to remove */
      refsr_io_output_discard (out);
      return io_error (path, errsv, error);
    }
  /* fsync before the rename: after a crash the file is either absent or
   * complete, never an empty or partial file under the final name */
  ok = write_all (fd, data, size) && fsync (fd) == 0;
  errsv = errno;
  if (close (fd) != 0 && ok)
    ok = FALSE, errsv = errno;
  if (!ok)
    {
      refsr_io_output_discard (out);
      return io_error (path, errsv, error);
    }
  return TRUE;
}

gboolean
refsr_io_output_commit (RefsrIoOutput *out, GError **error)
{
  gboolean ok = g_rename (out->tmp, out->path) == 0;
  int errsv = errno;

  if (ok)
    g_clear_pointer (&out->tmp, g_free);
  else
    io_error (out->path, errsv, error);
  refsr_io_output_discard (out);
  return ok;
}

void
refsr_io_output_discard (RefsrIoOutput *out)
{
  if (out->tmp != NULL)
    g_unlink (out->tmp);
  g_clear_pointer (&out->tmp, g_free);
  g_clear_pointer (&out->path, g_free);
}

/* libpng's simplified API writes to memory and reports every failure,
 * which GEGL's PNG saver does not (a full disk gave a truncated file). */
GBytes *
refsr_io_encode_png (const guint8 *rgb, int width, int height,
                     GError **error)
{
  png_image image;
  png_alloc_size_t size;
  guint8 *png;

  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32) width;
  image.height = (png_uint_32) height;
  image.format = PNG_FORMAT_RGB;
  size = PNG_IMAGE_PNG_SIZE_MAX (image);
  if ((png = g_try_malloc (size)) == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory encoding a %d×%d PNG", width, height);
      return NULL;
    }
  if (!png_image_write_to_memory (&image, png, &size, 0, rgb, 0, NULL))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "Could not encode a %d×%d PNG: %s", width, height,
                   image.message);
      png_image_free (&image);
      g_free (png);
      return NULL;
    }
  return g_bytes_new_take (g_realloc (png, size), size);
}

gboolean
refsr_io_save_png (const char *path, const guint8 *rgb, int width,
                   int height, GError **error)
{
  GBytes *png = refsr_io_encode_png (rgb, width, height, error);
  RefsrIoOutput out = { NULL, NULL };
  gboolean ok;

  if (png == NULL)
    return FALSE;
  ok = refsr_io_output_write (&out, path, g_bytes_get_data (png, NULL),
                              g_bytes_get_size (png), error)
       && refsr_io_output_commit (&out, error);
  g_bytes_unref (png);
  return ok;
}
