/* load.c — reading image files as 8-bit sRGB: the file is opened, its
 * kind told by its first bytes (never by its name) and handed to one
 * reader: libpng, libjpeg and libtiff directly (load-png.c, load-jpeg.c,
 * load-tiff.c), SVG through GEGL (load-gegl.c).  Also what the readers
 * share: the input, the size check, messages, babl conversions and
 * orientation.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "load-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <gegl.h>

/* ---- library messages ---------------------------------------------- */

/* GLib messages (GEGL's loaders warn this way) go through this writer.
 * While a GEGL load runs (refsr_io_capture_begin), every message is kept
 * for that load's error and nothing is printed; otherwise warnings are
 * shown only with REFSR_VERBOSE set, so that the command's one line is
 * all a user sees. */
static GMutex capture_lock;
static int capture_depth;
static char *captured;

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
            gpointer data)
{
  gboolean handled = FALSE;

  g_mutex_lock (&capture_lock);
  if (capture_depth > 0)
    {
      if (captured == NULL
          && (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL
                       | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)))
        for (gsize i = 0; i < n_fields; i++)
          if (strcmp (fields[i].key, "MESSAGE") == 0)
            captured = fields[i].length < 0
                       ? g_strdup (fields[i].value)
                       : g_strndup (fields[i].value, fields[i].length);
      handled = TRUE;
    }
  g_mutex_unlock (&capture_lock);
  if (handled)
    return G_LOG_WRITER_HANDLED;
  if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) == 0
      && g_getenv ("REFSR_VERBOSE") == NULL)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

/* Starts keeping GLib messages instead of printing them. */
void
refsr_io_capture_begin (void)
{
  g_mutex_lock (&capture_lock);
  capture_depth++;
  g_mutex_unlock (&capture_lock);
}

/* Stops; returns the first message kept (g_free it), or NULL. */
char *
refsr_io_capture_end (void)
{
  char *message = NULL;

  g_mutex_lock (&capture_lock);
  if (--capture_depth == 0)
    {
      message = captured;
      captured = NULL;
    }
  else if (captured != NULL)
    message = g_strdup (captured);
  g_mutex_unlock (&capture_lock);
  return message != NULL ? g_strstrip (message) : NULL;
}

void
refsr_io_init (void)
{
  static gsize writer_set;

  if (g_once_init_enter (&writer_set))
    {
      g_log_set_writer_func (log_writer, NULL, NULL);
      g_once_init_leave (&writer_set, 1);
    }
  gegl_init (NULL, NULL);
}

void
refsr_io_exit (void)
{
  gegl_exit ();
}

/* The native readers need babl only; the fuzzer calls them without
 * GEGL.  babl_init counts its calls, so GEGL's own is not disturbed. */
static void
init_babl (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      babl_init ();
      g_once_init_leave (&done, 1);
    }
}

/* ---- input ------------------------------------------------------------ */

gsize
refsr_io_read (RefsrIoReader *r, void *buffer, gsize n)
{
  gsize got;

  if (r->file == NULL)
    {
      got = r->pos < r->size ? MIN (n, r->size - r->pos) : 0;
      if (got > 0)
        memcpy (buffer, r->data + r->pos, got);
      r->pos += got;
    }
  else
    {
      got = fread (buffer, 1, n, r->file);
      if (got < n && ferror (r->file))
        r->read_failed = TRUE;
    }
  if (got < n && !r->read_failed)
    r->hit_end = TRUE;
  return got;
}

gboolean
refsr_io_seek (RefsrIoReader *r, guint64 offset)
{
  if (r->file == NULL)
    {
      /* past the end is allowed, as for files: reads there get nothing */
      r->pos = (gsize) MIN (offset, G_MAXSIZE);
      return TRUE;
    }
  if (offset > G_MAXINT64)
    return FALSE;
  return fseeko (r->file, (off_t) offset, SEEK_SET) == 0;
}

guint64
refsr_io_tell (RefsrIoReader *r)
{
  off_t at;

  if (r->file == NULL)
    return r->pos;
  at = ftello (r->file);
  return at < 0 ? 0 : (guint64) at;
}

const char *
refsr_io_short_read_reason (const RefsrIoReader *r)
{
  return r->read_failed ? "the system reported a read error"
                        : "the file is truncated";
}

void
refsr_io_set_decode_error (GError **error, const RefsrIoReader *r,
                           gboolean ran_out, const char *message,
                           const char *at)
{
  if (ran_out || r->read_failed)
    refsr_io_set_error (error, r, "%s (%s)", refsr_io_short_read_reason (r),
                        at);
  else if (message != NULL)
    refsr_io_set_error (error, r, "the file is corrupt (%s, %s)", message,
                        at);
  else
    refsr_io_set_error (error, r, "the file is corrupt (%s)", at);
}

/* ---- checks and messages ------------------------------------------------ */

/* Messages are one line: control characters (a library's trailing
 * newline, one in a file name) become spaces. */
static char *
one_line (char *text)
{
  for (char *c = text; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = ' ';
  return g_strchomp (text);
}

void
refsr_io_set_error (GError **error, const RefsrIoReader *r,
                    const char *format, ...)
{
  va_list args;
  char *what;

  va_start (args, format);
  what = one_line (g_strdup_vprintf (format, args));
  va_end (args);
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO, "Could not read '%s': %s",
               r->name, what);
  g_free (what);
}

gboolean
refsr_io_check_size (const RefsrIoReader *r, gint64 width, gint64 height,
                     GError **error)
{
  gint64 long_side = MAX (width, height), short_side = MIN (width, height);

  if (width < 1 || height < 1)
    {
      refsr_io_set_error (error, r, "the image is empty (%" G_GINT64_FORMAT
                          "×%" G_GINT64_FORMAT " pixels)", width, height);
      return FALSE;
    }
  /* compared in double: a hostile header may declare sides near 2^32 */
  if ((double) width * (double) height > (double) r->max_pixels)
    {
      char *limit = r->max_pixels >= 100000
                    ? g_strdup_printf ("%.1f megapixels",
                                       (double) r->max_pixels / 1e6)
                    : g_strdup_printf ("%" G_GINT64_FORMAT " pixels",
                                       r->max_pixels);

      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "'%s' is too large: %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   " pixels, at most %s are supported", r->name, width,
                   height, limit);
      g_free (limit);
      return FALSE;
    }
  if (long_side > short_side * r->max_aspect)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "'%s' is %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   " pixels: one side more than %d times the other is not "
                   "supported (crop it, or pad it to a less elongated shape)",
                   r->name, width, height, r->max_aspect);
      return FALSE;
    }
  return TRUE;
}

gboolean
refsr_io_cancelled (const RefsrIoReader *r, GError **error)
{
  if (r->cancel == NULL || !atomic_load (r->cancel))
    return FALSE;
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
               "cancelled while reading '%s'; nothing was written", r->name);
  return TRUE;
}

guint8 *
refsr_io_alloc_pixels (const RefsrIoReader *r, gint64 width, gint64 height,
                       gsize bytes_per_pixel, GError **error)
{
  guint8 *pixels = NULL;

  /* the size check keeps width × height far below G_MAXSIZE */
  if (width > 0 && height > 0
      && (double) width * height * bytes_per_pixel < (double) G_MAXSSIZE)
    pixels = g_try_malloc0 ((gsize) width * height * bytes_per_pixel);
  if (pixels == NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                 "Out of memory reading '%s' (%" G_GINT64_FORMAT "×%"
                 G_GINT64_FORMAT " pixels)", r->name, width, height);
  return pixels;
}

/* ---- colour -------------------------------------------------------------- */

const Babl *
refsr_io_icc_space (const guint8 *icc, gsize size, RefsrIoModel model)
{
  const char *why = NULL;
  const Babl *space;

  if (icc == NULL || size < 132 || size > G_MAXINT)
    return NULL;
  space = babl_space_from_icc ((const char *) icc, (int) size,
                               BABL_ICC_INTENT_RELATIVE_COLORIMETRIC, &why);
  if (space == NULL)
    return NULL;
  switch (model)
    {
    case REFSR_IO_MODEL_GRAY:
      return babl_space_is_gray (space) ? space : NULL;
    case REFSR_IO_MODEL_CMYK:
      return babl_space_is_cmyk (space) ? space : NULL;
    case REFSR_IO_MODEL_RGB:
    default:
      return babl_space_is_gray (space) || babl_space_is_cmyk (space)
             ? NULL : space;
    }
}

const Babl *
refsr_io_row_fish (const char *encoding, const Babl *space)
{
  return babl_fish (babl_format_with_space (encoding, space),
                    babl_format ("R'G'B' u8"));
}

gboolean
refsr_io_finish (const RefsrIoReader *r, guint8 *rgb, int width, int height,
                 int orientation, RefsrIoImage *image, GError **error)
{
  if (orientation >= 2 && orientation <= 8)
    {
      guint8 *upright = refsr_io_alloc_pixels (r, width, height, 3, error);

      if (upright == NULL)
        {
          g_free (rgb);
          return FALSE;
        }
      refsr_io_orient (rgb, width, height, orientation, upright);
      g_free (rgb);
      rgb = upright;
    }
  refsr_io_oriented_size (orientation, width, height, &image->width,
                          &image->height);
  image->pixels = rgb;
  image->bit_depth = r->bit_depth == 16 ? 16 : 8;
  return TRUE;
}

/* ---- dispatch ------------------------------------------------------------ */

typedef enum
{
  KIND_UNKNOWN,
  KIND_PNG,
  KIND_JPEG,
  KIND_TIFF,
  KIND_SVG,
  KIND_GIF,
  KIND_WEBP,
  KIND_BMP,
  KIND_OTHER  /* a known image format refsr does not read */
} Kind;

static gboolean
starts_with (const guint8 *head, gsize n, const char *magic, gsize len)
{
  return n >= len && memcmp (head, magic, len) == 0;
}

/* An XML document whose first element is <svg>: after a byte-order mark,
 * white space, the XML declaration, comments, processing instructions
 * and a DOCTYPE. */
static gboolean
looks_like_svg (const guint8 *head, gsize n)
{
  const char *p = (const char *) head, *end = p + n;

  if (n >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  while (p < end)
    {
      const char *close = NULL;

      if (g_ascii_isspace (*p))
        {
          p++;
          continue;
        }
      if (end - p >= 4 && memcmp (p, "<svg", 4) == 0)
        return end - p == 4 || g_ascii_isspace (p[4]) || p[4] == '>'
               || p[4] == '/';
      if (end - p >= 4 && memcmp (p, "<!--", 4) == 0)
        close = g_strstr_len (p + 4, end - p - 4, "-->");
      else if (end - p >= 2 && (memcmp (p, "<?", 2) == 0
                                || memcmp (p, "<!", 2) == 0))
        {
          /* a DOCTYPE may have an internal subset in brackets (Adobe
           * Illustrator declares entities there) */
          const char *subset = memchr (p, '[', end - p);

          close = memchr (p, '>', end - p);
          if (close != NULL && subset != NULL && subset < close && p[1] == '!'
              && (close = memchr (subset, ']', end - subset)) != NULL)
            close = memchr (close, '>', end - close);
        }
      if (close == NULL)
        return FALSE;
      p = close + 1;
    }
  return FALSE;
}

static Kind
sniff (const guint8 *head, gsize n)
{
  if (starts_with (head, n, "\x89PNG\r\n\x1a\n", 8))
    return KIND_PNG;
  if (starts_with (head, n, "\xff\xd8\xff", 3))
    return KIND_JPEG;
  if (starts_with (head, n, "II*\0", 4) || starts_with (head, n, "MM\0*", 4)
      || starts_with (head, n, "II+\0", 4) || starts_with (head, n, "MM\0+", 4))
    return KIND_TIFF;
  if (starts_with (head, n, "GIF87a", 6) || starts_with (head, n, "GIF89a", 6))
    return KIND_GIF;
  if (n >= 12 && memcmp (head, "RIFF", 4) == 0
      && memcmp (head + 8, "WEBP", 4) == 0)
    return KIND_WEBP;
  if (starts_with (head, n, "BM", 2))
    return KIND_BMP;
  if (looks_like_svg (head, n))
    return KIND_SVG;
  /* OpenEXR, Radiance HDR, JPEG 2000, JPEG XL, HEIF/AVIF, Photoshop, PDF */
  if (starts_with (head, n, "\x76\x2f\x31\x01", 4)
      || starts_with (head, n, "#?RADIANCE", 10) || starts_with (head, n, "#?RGBE", 6)
      || starts_with (head, n, "\0\0\0\x0cjP  ", 8)
      || starts_with (head, n, "\xff\x0a", 2)
      || starts_with (head, n, "\0\0\0\x0cJXL ", 8)
      || (n >= 12 && memcmp (head + 4, "ftyp", 4) == 0)
      || starts_with (head, n, "8BPS", 4) || starts_with (head, n, "%PDF", 4))
    return KIND_OTHER;
  return KIND_UNKNOWN;
}

#define SUPPORTED "PNG, JPEG, TIFF or SVG"

static gboolean
load_kind (RefsrIoReader *r, Kind kind, RefsrIoImage *image, GError **error)
{
  switch (kind)
    {
    case KIND_PNG:
      return refsr_io_load_png (r, image, error);
    case KIND_JPEG:
      return refsr_io_load_jpeg (r, image, error);
    case KIND_TIFF:
      return refsr_io_load_tiff (r, image, error);
    case KIND_SVG:
      if (r->path != NULL)
        return refsr_io_load_gegl (r, "gegl:svg-load", "SVG", image, error);
      refsr_io_set_error (error, r, "SVG is read from files only");
      return FALSE;
    case KIND_GIF:
    case KIND_WEBP:
    case KIND_BMP:
    case KIND_OTHER:
      refsr_io_set_error (error, r, "%s files are not supported (refsr reads "
                          SUPPORTED "; convert it to PNG)",
                          kind == KIND_GIF ? "GIF" : kind == KIND_WEBP ? "WebP"
                          : kind == KIND_BMP ? "BMP" : "Such");
      return FALSE;
    case KIND_UNKNOWN:
    default:
      refsr_io_set_error (error, r, "not an image refsr can read (" SUPPORTED
                          ")");
      return FALSE;
    }
}

static void
reader_init (RefsrIoReader *r, const char *name,
             const RefsrIoLoadOptions *options)
{
  memset (r, 0, sizeof *r);
  r->name = r->shown_name = one_line (g_strdup (name));
  r->max_pixels = options != NULL && options->max_pixels > 0
                  ? options->max_pixels : REFSR_MAX_REF_PIXELS;
  r->max_aspect = REFSR_IO_MAX_ASPECT;
  r->cancel = options != NULL ? options->cancel : NULL;
}

/* The load itself; on failure image is left empty. */
static gboolean
load (RefsrIoReader *r, const guint8 *head, gsize n, RefsrIoImage *image,
      GError **error)
{
  Kind kind = sniff (head, n);

  init_babl ();
  if (refsr_io_cancelled (r, error))
    return FALSE;
  if (load_kind (r, kind, image, error))
    return TRUE;
  refsr_io_image_clear (image);
  return FALSE;
}

gboolean
refsr_io_load_image_from_data (const guint8 *data, gsize size,
                               const char *name,
                               const RefsrIoLoadOptions *options,
                               RefsrIoImage *image, GError **error)
{
  RefsrIoReader r;
  gboolean ok = FALSE;

  memset (image, 0, sizeof *image);
  reader_init (&r, name, options);
  r.data = data;
  r.size = size;
  if (size == 0)
    refsr_io_set_error (error, &r, "the file is empty");
  else
    ok = load (&r, data, MIN (size, 4096), image, error);
  g_free (r.shown_name);
  return ok;
}

static gboolean
load_file (RefsrIoReader *r, RefsrIoImage *image, GError **error)
{
  guint8 head[4096];
  struct stat st = { 0 };
  gsize n;

  if (fstat (fileno (r->file), &st) != 0 || !S_ISREG (st.st_mode))
    {
      /* a folder opens on Linux; a pipe or device is no image file */
      refsr_io_set_error (error, r, "%s", S_ISDIR (st.st_mode)
                          ? "it is a folder" : "not a regular file");
      return FALSE;
    }
  r->size = (gsize) st.st_size;
  n = refsr_io_read (r, head, sizeof head);
  if (r->read_failed || !refsr_io_seek (r, 0))
    {
      refsr_io_set_error (error, r, "the system reported a read error");
      return FALSE;
    }
  r->hit_end = FALSE;
  if (n == 0)
    {
      refsr_io_set_error (error, r, "the file is empty");
      return FALSE;
    }
  return load (r, head, n, image, error);
}

gboolean
refsr_io_load_image (const char *path, const RefsrIoLoadOptions *options,
                     RefsrIoImage *image, GError **error)
{
  RefsrIoReader r;
  gboolean ok = FALSE;

  memset (image, 0, sizeof *image);
  reader_init (&r, path, options);
  r.path = path;
  r.file = fopen (path, "rbe");
  if (r.file == NULL)
    {
      int saved = errno;

      refsr_io_set_error (error, &r, "%s", saved == ENOENT ? "no such file"
                          : g_strerror (saved));
    }
  else
    {
      ok = load_file (&r, image, error);
      fclose (r.file);
    }
  g_free (r.shown_name);
  return ok;
}

void
refsr_io_image_clear (RefsrIoImage *image)
{
  g_free (image->pixels);
  memset (image, 0, sizeof *image);
}
