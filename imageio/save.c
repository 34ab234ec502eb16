/* save.c — writing PNGs with libpng, and output files that appear whole
 * or not at all: a regular file through a temporary file and a rename, or
 * a stream (standard output) written in one go at the end.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "image-io.h"
#include "imageio-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <png.h>
#include <string.h>
#include <sys/stat.h>
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
io_error (const char *name, int errsv, GError **error)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO, "cannot write '%s': %s",
               name, g_strerror (errsv));
  return FALSE;
}

/* A file that replaces another keeps its permissions and, where the
 * system allows it (as root, or a group of one's own), its owner and
 * group: replacing a file should not change who may read it.  Failing to
 * do so is no reason to fail the write (a FAT file system, say, has
 * neither). */
static void
keep_attributes (int fd, const struct stat *old)
{
  if (fchmod (fd, old->st_mode & 0777) != 0)
    return;
  if (old->st_uid != geteuid () || old->st_gid != getegid ())
    {
      int ignored = fchown (fd, old->st_uid, old->st_gid);
      (void) ignored;
    }
}

gboolean
refsr_io_output_write (RefsrIoOutput *out, const char *path,
                       const void *data, gsize size, GError **error)
{
  struct stat old;
  gboolean exists, ok;
  int fd, errsv;

  memset (out, 0, sizeof *out);
  out->fd = -1;
  out->path = refsr_io_resolve_output (path, &old, &exists, error);
  if (out->path == NULL)
    return FALSE;
  out->name = g_strdup (path);
  out->tmp = g_strdup_printf ("%s.XXXXXX", out->path);
  fd = g_mkstemp_full (out->tmp, O_WRONLY, 0666);
  if (fd < 0)
    {
      errsv = errno;
      g_clear_pointer (&out->tmp, g_free); /* not ours to remove */
      io_error (path, errsv, error);
      refsr_io_output_discard (out);
      return FALSE;
    }
  if (exists)
    keep_attributes (fd, &old);
  /* fsync before the rename: after a crash the file is either absent or
   * complete, never an empty or partial file under the final name */
  ok = write_all (fd, data, size) && fsync (fd) == 0;
  errsv = errno;
  if (close (fd) != 0 && ok)
    ok = FALSE, errsv = errno;
  if (!ok)
    {
      io_error (path, errsv, error);
      refsr_io_output_discard (out);
      return FALSE;
    }
  return TRUE;
}

gboolean
refsr_io_output_write_fd (RefsrIoOutput *out, int fd, const char *name,
                          const void *data, gsize size, GError **error)
{
  struct stat st;

  memset (out, 0, sizeof *out);
  out->fd = -1;
  if (fstat (fd, &st) != 0)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot write to %s: %s", name, g_strerror (errno));
      return FALSE;
    }
  out->fd = fd;
  out->name = g_strdup (name);
  out->stream = g_bytes_new (data, size);
  return TRUE;
}

static gboolean
commit_stream (RefsrIoOutput *out, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (out->stream, &size);
  struct stat st;
  gboolean ok = write_all (out->fd, data, size);

  /* a file the stream was redirected to is synced like any output; a
   * pipe or a device cannot be */
  if (ok && fstat (out->fd, &st) == 0 && S_ISREG (st.st_mode))
    ok = fsync (out->fd) == 0;
  if (!ok)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                 "cannot write to %s: %s", out->name, g_strerror (errno));
  return ok;
}

gboolean
refsr_io_output_commit (RefsrIoOutput *out, GError **error)
{
  struct stat st;
  gboolean ok;
  int errsv = 0;

  if (out->stream != NULL)
    ok = commit_stream (out, error);
  else if (lstat (out->path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      /* something else took the name while the work ran: it is not
       * replaced, whatever it is */
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot write '%s': it is no longer a regular file",
                   out->name);
      ok = FALSE;
    }
  else
    {
      ok = g_rename (out->tmp, out->path) == 0;
      errsv = errno;
      if (ok)
        g_clear_pointer (&out->tmp, g_free);
      else
        io_error (out->name, errsv, error);
    }
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
  g_clear_pointer (&out->name, g_free);
  g_clear_pointer (&out->stream, g_bytes_unref);
  out->fd = -1;
}

/* libpng's simplified API writes to memory and reports every failure,
 * which GEGL's PNG saver does not (a full disk gave a truncated file).
 * format: PNG_FORMAT_RGB or PNG_FORMAT_GRAY, 8 bits. */
static GBytes *
encode_png (const guint8 *pixels, png_uint_32 format, int width, int height,
            GError **error)
{
  png_image image;
  png_alloc_size_t size;
  guint8 *png;

  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32) width;
  image.height = (png_uint_32) height;
  image.format = format;
  size = PNG_IMAGE_PNG_SIZE_MAX (image);
  if ((png = g_try_malloc (size)) == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory encoding a %d×%d PNG", width, height);
      return NULL;
    }
  if (!png_image_write_to_memory (&image, png, &size, 0, pixels, 0, NULL))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot encode a %d×%d PNG: %s", width, height,
                   image.message);
      png_image_free (&image);
      g_free (png);
      return NULL;
    }
  return g_bytes_new_take (g_realloc (png, size), size);
}

GBytes *
refsr_io_encode_png (const guint8 *rgb, int width, int height,
                     GError **error)
{
  return encode_png (rgb, PNG_FORMAT_RGB, width, height, error);
}

GBytes *
refsr_io_encode_png_grey (const guint8 *grey, int width, int height,
                          GError **error)
{
  return encode_png (grey, PNG_FORMAT_GRAY, width, height, error);
}

/* ---- 16 bits: libpng's full API (the simplified one writes 16-bit
 * samples as linear light only) ---------------------------------------- */

static void
on_encode_error (png_structp png, png_const_charp message)
{
  g_strlcpy (png_get_error_ptr (png), message, 256);
  png_longjmp (png, 1);
}

static void
on_encode_warning (png_structp png, png_const_charp message)
{
  (void) png;
  (void) message;
}

static void
append_data (png_structp png, png_bytep data, png_size_t size)
{
  g_byte_array_append (png_get_io_ptr (png), data, (guint) size);
}

static void
flush_nothing (png_structp png)
{
  (void) png;
}

/* Big-endian 16-bit RGB, marked sRGB as the 8-bit PNGs are. */
static void
write_rgb16 (png_structp png, png_infop info, const guint16 *rgb,
             int width, int height, GByteArray *out)
{
  png_set_write_fn (png, out, append_data, flush_nothing);
  png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) height, 16,
                PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_sRGB (png, info, PNG_sRGB_INTENT_PERCEPTUAL);
  png_write_info (png, info);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    png_set_swap (png);
  for (int y = 0; y < height; y++)
    png_write_row (png, (png_const_bytep) (rgb + (gsize) y * width * 3));
  png_write_end (png, info);
}

GBytes *
refsr_io_encode_png16 (const guint16 *rgb, int width, int height,
                       GError **error)
{
  char message[256] = "";
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, message,
                                             on_encode_error,
                                             on_encode_warning);
  png_infop info = png != NULL ? png_create_info_struct (png) : NULL;
  gboolean ok = FALSE;

  if (info == NULL)
    g_strlcpy (message, "out of memory", sizeof message);
  else if (setjmp (png_jmpbuf (png)) == 0)
    {
      write_rgb16 (png, info, rgb, width, height, out);
      ok = TRUE;
    }
  png_destroy_write_struct (&png, &info);
  if (ok)
    return g_byte_array_free_to_bytes (out);
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
               "cannot encode a %d×%d PNG: %s", width, height, message);
  g_byte_array_unref (out);
  return NULL;
}

gboolean
refsr_io_save_png (const char *path, const guint8 *rgb, int width,
                   int height, GError **error)
{
  GBytes *png = refsr_io_encode_png (rgb, width, height, error);
  RefsrIoOutput out;
  gboolean ok;

  if (png == NULL)
    return FALSE;
  ok = refsr_io_output_write (&out, path, g_bytes_get_data (png, NULL),
                              g_bytes_get_size (png), error)
       && refsr_io_output_commit (&out, error);
  g_bytes_unref (png);
  return ok;
}
