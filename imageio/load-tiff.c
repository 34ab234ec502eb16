/* load-tiff.c — TIFF with libtiff, first image of the file.  The size and
 * layout are read from the directory and checked before any strip or
 * tile; then rows (stripped, interleaved images) or bands of a strip or a
 * tile row (tiled or planar images) are read, unpacked to 8 or 16 bits,
 * reduced to the colour channels (plus premultiplied alpha, so babl can
 * divide it out) and converted through babl; the cancel flag is polled
 * between rows and between strips or tiles.
 * Every libtiff error ends the load, and so does every warning once the
 * pixels are being read; warnings while the directory is read (private
 * tags, the usual chatter of cameras and scanners) are not about the
 * pixels and are dropped.  libtiff prints nothing: each handle gets its
 * own handlers (TIFFOpenOptions), and the global ones, used where libtiff
 * has no handle, report to the load running on this thread.
 * Supported: grey (1–16 bits, either polarity), palette (1–8 bits), RGB
 * and CMYK (8 or 16 bits), JPEG-compressed YCbCr; with or without alpha
 * and other extra samples; strips or tiles, interleaved or planar.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "load-private.h"

#include <stdarg.h>
#include <string.h>

#include <tiffio.h>

/* libtiff's own buffers (the compressed data of a strip or tile) */
#define MAX_LIBTIFF_ALLOC ((tmsize_t) 512 << 20)

typedef enum
{
  LAYOUT_GRAY,
  LAYOUT_PALETTE,
  LAYOUT_RGB,
  LAYOUT_CMYK
} Layout;

typedef struct
{
  RefsrIoReader *r;
  TIFF *tif;
  char message[256];  /* libtiff's first error, or its first warning
                       * about the pixels */
  gboolean failed;
  gboolean reading_pixels;
  char where[64];     /* what was being read, for messages */

  guint32 width, height;
  guint16 spp, bps;
  Layout layout;
  gboolean min_is_white, premultiplied, wide;
  guint16 *cmap[3];
  gboolean cmap_8bit;
  const Babl *fish;
  guint8 *band;       /* rows of unpacked samples, spp per pixel */
  guint8 *packed;     /* one row in the babl format */
  guint8 *raw;        /* one strip or tile as libtiff gives it */
  guint8 *rgb;
} TiffLoad;

static _Thread_local TiffLoad *current;

static void
record (TiffLoad *ctx, const char *module, const char *format, va_list args)
{
  char *text = g_strdup_vprintf (format, args);

  if (module != NULL && *module != '\0')
    g_snprintf (ctx->message, sizeof ctx->message, "%s: %s", module, text);
  else
    g_strlcpy (ctx->message, text, sizeof ctx->message);
  g_free (text);
}

static int
on_error (TIFF *tif, void *data, const char *module, const char *format,
          va_list args)
{
  TiffLoad *ctx = data;

  (void) tif;
  if (!ctx->failed)
    record (ctx, module, format, args);
  ctx->failed = TRUE;
  return 1;  /* handled: the global handler is not called */
}

static int
on_warning (TIFF *tif, void *data, const char *module, const char *format,
            va_list args)
{
  TiffLoad *ctx = data;

  (void) tif;
  if (ctx->reading_pixels && !ctx->failed)
    {
      record (ctx, module, format, args);
      ctx->failed = TRUE;
    }
  return 1;
}

/* Where libtiff reports without a handle. */
static void
global_error (const char *module, const char *format, va_list args)
{
  if (current != NULL)
    on_error (NULL, current, module, format, args);
}

static void
global_warning (const char *module, const char *format, va_list args)
{
  if (current != NULL)
    on_warning (NULL, current, module, format, args);
}

/* ---- input ------------------------------------------------------------ */

static tmsize_t
tiff_read (thandle_t handle, void *buffer, tmsize_t n)
{
  TiffLoad *ctx = handle;

  return n <= 0 ? 0 : (tmsize_t) refsr_io_read (ctx->r, buffer, (gsize) n);
}

static tmsize_t
tiff_write (thandle_t handle, void *buffer, tmsize_t n)
{
  (void) handle;
  (void) buffer;
  (void) n;
  return -1;
}

static toff_t
tiff_seek (thandle_t handle, toff_t offset, int whence)
{
  TiffLoad *ctx = handle;
  guint64 base = whence == SEEK_CUR ? refsr_io_tell (ctx->r)
                 : whence == SEEK_END ? ctx->r->size : 0;

  if (offset > G_MAXUINT64 - base || !refsr_io_seek (ctx->r, base + offset))
    return (toff_t) -1;
  return base + offset;
}

static int
tiff_close (thandle_t handle)
{
  (void) handle;
  return 0;
}

static toff_t
tiff_size (thandle_t handle)
{
  TiffLoad *ctx = handle;

  return ctx->r->size;
}

static int
tiff_map (thandle_t handle, void **base, toff_t *size)
{
  (void) handle;
  (void) base;
  (void) size;
  return 0;
}

static void
tiff_unmap (thandle_t handle, void *base, toff_t size)
{
  (void) handle;
  (void) base;
  (void) size;
}

/* ---- messages ------------------------------------------------------------ */

static void
set_corrupt (TiffLoad *ctx, GError **error)
{
  const char *at = ctx->where[0] != '\0' ? ctx->where : "in its directory";

  refsr_io_set_decode_error (error, ctx->r, ctx->r->hit_end,
                             ctx->failed ? ctx->message : NULL, at);
}

static gboolean
unsupported (TiffLoad *ctx, GError **error, const char *what, int value)
{
  refsr_io_set_error (error, ctx->r, "unsupported TIFF (%s %d)", what, value);
  return FALSE;
}

/* ---- the layout ---------------------------------------------------------- */

static gboolean
read_layout (TiffLoad *ctx, GError **error)
{
  TIFF *tif = ctx->tif;
  guint16 photometric, planar, sample_format, compression, n_extra = 0;
  guint16 *extra = NULL;
  int colors;

  if (!TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &ctx->width)
      || !TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &ctx->height))
    {
      refsr_io_set_error (error, ctx->r, "the file is corrupt (no image "
                          "size)");
      return FALSE;
    }
  if (!refsr_io_check_size (ctx->r, ctx->width, ctx->height, error))
    return FALSE;
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLESPERPIXEL, &ctx->spp);
  TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &ctx->bps);
  TIFFGetFieldDefaulted (tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLEFORMAT, &sample_format);
  TIFFGetFieldDefaulted (tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetFieldDefaulted (tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
  if (!TIFFGetField (tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = ctx->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  if (sample_format != SAMPLEFORMAT_UINT && sample_format != SAMPLEFORMAT_VOID)
    return unsupported (ctx, error, "sample format", sample_format);
  if (ctx->bps != 1 && ctx->bps != 2 && ctx->bps != 4 && ctx->bps != 8
      && ctx->bps != 16)
    return unsupported (ctx, error, "bits per sample", ctx->bps);
  if (ctx->spp < 1 || ctx->spp > 16)
    return unsupported (ctx, error, "samples per pixel", ctx->spp);

  switch (photometric)
    {
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_MINISBLACK:
      ctx->layout = LAYOUT_GRAY;
      ctx->min_is_white = photometric == PHOTOMETRIC_MINISWHITE;
      colors = 1;
      break;
    case PHOTOMETRIC_PALETTE:
      ctx->layout = LAYOUT_PALETTE;
      colors = 1;
      if (ctx->bps > 8)
        return unsupported (ctx, error, "bits per palette index", ctx->bps);
      if (!TIFFGetField (tif, TIFFTAG_COLORMAP, &ctx->cmap[0], &ctx->cmap[1],
                         &ctx->cmap[2]))
        {
          refsr_io_set_error (error, ctx->r, "the file is corrupt (a palette "
                              "image without palette)");
          return FALSE;
        }
      /* some writers store 8-bit values in the 16-bit colormap; libtiff
       * and GIMP tell them the same way */
      ctx->cmap_8bit = TRUE;
      for (int i = 0; i < 1 << ctx->bps; i++)
        for (int c = 0; c < 3; c++)
          if (ctx->cmap[c][i] >= 256)
            ctx->cmap_8bit = FALSE;
      break;
    case PHOTOMETRIC_YCBCR:
      if (compression != COMPRESSION_JPEG || planar != PLANARCONFIG_CONTIG)
        return unsupported (ctx, error, "YCbCr without JPEG compression, "
                            "compression", compression);
      /* libjpeg converts to RGB */
      TIFFSetField (tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
      ctx->layout = LAYOUT_RGB;
      colors = 3;
      break;
    case PHOTOMETRIC_RGB:
      ctx->layout = LAYOUT_RGB;
      colors = 3;
      break;
    case PHOTOMETRIC_SEPARATED:
      {
        guint16 inkset = INKSET_CMYK;

        TIFFGetFieldDefaulted (tif, TIFFTAG_INKSET, &inkset);
        if (inkset != INKSET_CMYK)
          return unsupported (ctx, error, "ink set", inkset);
        ctx->layout = LAYOUT_CMYK;
        colors = 4;
      }
      break;
    default:
      return unsupported (ctx, error, "colour model (photometric)",
                          photometric);
    }
  if (ctx->spp < colors)
    {
      refsr_io_set_error (error, ctx->r, "the file is corrupt (%d samples "
                          "per pixel for %d colours)", ctx->spp, colors);
      return FALSE;
    }
  if (ctx->bps < 8 && (ctx->layout == LAYOUT_RGB || ctx->layout == LAYOUT_CMYK))
    return unsupported (ctx, error, "bits per sample", ctx->bps);
  /* alpha premultiplied into the colours must be divided out; other
   * extra samples are dropped */
  ctx->premultiplied = ctx->spp > colors && n_extra > 0 && extra != NULL
                       && extra[0] == EXTRASAMPLE_ASSOCALPHA
                       && (ctx->layout == LAYOUT_GRAY
                           || ctx->layout == LAYOUT_RGB);
  ctx->wide = ctx->bps == 16 && ctx->layout != LAYOUT_PALETTE;
  ctx->r->bit_depth = ctx->wide ? 16 : 8;
  return TRUE;
}

static const Babl *
row_fish (TiffLoad *ctx)
{
  const char *format;
  const Babl *space = NULL;
  RefsrIoModel model;
  guint32 icc_size = 0;
  void *icc = NULL;
  gboolean wide = ctx->wide;

  switch (ctx->layout)
    {
    case LAYOUT_GRAY:
      model = REFSR_IO_MODEL_GRAY;
      format = ctx->premultiplied ? (wide ? "Y'aA u16" : "Y'aA u8")
                                  : (wide ? "Y' u16" : "Y' u8");
      break;
    case LAYOUT_CMYK:
      model = REFSR_IO_MODEL_CMYK;
      format = wide ? "CMYK u16" : "CMYK u8";
      break;
    case LAYOUT_PALETTE:
      model = REFSR_IO_MODEL_RGB;
      format = "R'G'B' u8";
      break;
    case LAYOUT_RGB:
    default:
      model = REFSR_IO_MODEL_RGB;
      format = ctx->premultiplied ? (wide ? "R'aG'aB'aA u16" : "R'aG'aB'aA u8")
                                  : (wide ? "R'G'B' u16" : "R'G'B' u8");
      break;
    }
  if (TIFFGetField (ctx->tif, TIFFTAG_ICCPROFILE, &icc_size, &icc))
    space = refsr_io_icc_space (icc, icc_size, model);
  return refsr_io_row_fish (format, space);
}

/* ---- pixels -------------------------------------------------------------- */

/* Unpacks n samples of bps bits (big-endian bit order within bytes, as
 * TIFF has them; 16-bit samples in host order, as libtiff gives them) to
 * one byte each, or two for 16 bits, step samples apart in dst. */
static void
unpack (const guint8 *src, gsize n, int bps, guint8 *dst, gsize step)
{
  if (bps == 8)
    for (gsize i = 0; i < n; i++)
      dst[i * step] = src[i];
  else if (bps == 16)
    for (gsize i = 0; i < n; i++)
      memcpy (dst + 2 * i * step, src + 2 * i, 2);
  else
    for (gsize i = 0; i < n; i++)
      {
        gsize bit = i * bps;

        dst[i * step] = (src[bit / 8] >> (8 - bps - bit % 8)) & ((1 << bps) - 1);
      }
}

/* One row of unpacked samples (spp per pixel) to the babl format. */
static void
pack_row (TiffLoad *ctx, const guint8 *samples, guint8 *out)
{
  gsize w = ctx->width, spp = ctx->spp;

  switch (ctx->layout)
    {
    case LAYOUT_PALETTE:
      for (gsize x = 0; x < w; x++)
        {
          int index = samples[x * spp];

          for (int c = 0; c < 3; c++)
            {
              guint v = ctx->cmap[c][index];

              out[3 * x + c] = ctx->cmap_8bit ? v : v >> 8;
            }
        }
      return;
    case LAYOUT_GRAY:
      {
        int keep = ctx->premultiplied ? 2 : 1;

        for (gsize x = 0; x < w; x++)
          for (int c = 0; c < keep; c++)
            {
              if (ctx->wide)
                {
                  guint16 v;

                  memcpy (&v, samples + 2 * (x * spp + c), 2);
                  if (c == 0 && ctx->min_is_white)
                    v = 65535 - v;
                  memcpy (out + 2 * (x * keep + c), &v, 2);
                }
              else
                {
                  guint v = samples[x * spp + c];

                  if (c == 0 && ctx->bps < 8)
                    v = v * 255 / ((1u << ctx->bps) - 1);
                  if (c == 0 && ctx->min_is_white)
                    v = 255 - v;
                  out[x * keep + c] = v;
                }
            }
      }
      return;
    case LAYOUT_RGB:
    case LAYOUT_CMYK:
    default:
      {
        gsize keep = ctx->layout == LAYOUT_CMYK ? 4 : ctx->premultiplied ? 4 : 3;
        gsize size = ctx->wide ? 2 : 1;

        for (gsize x = 0; x < w; x++)
          memcpy (out + x * keep * size, samples + x * spp * size, keep * size);
      }
      return;
    }
}

static gboolean
emit_rows (TiffLoad *ctx, guint32 y0, guint32 n, GError **error)
{
  gsize sample_size = ctx->wide ? 2 : 1;
  gsize row_size = (gsize) ctx->width * ctx->spp * sample_size;

  for (guint32 i = 0; i < n; i++)
    {
      pack_row (ctx, ctx->band + i * row_size, ctx->packed);
      babl_process (ctx->fish, ctx->packed,
                    ctx->rgb + (gsize) (y0 + i) * ctx->width * 3, ctx->width);
    }
  return !refsr_io_cancelled (ctx->r, error);
}

/* Interleaved strips: one scanline at a time. */
static gboolean
read_scanlines (TiffLoad *ctx, GError **error)
{
  for (guint32 y = 0; y < ctx->height; y++)
    {
      g_snprintf (ctx->where, sizeof ctx->where, "row %u of %u", y + 1,
                  ctx->height);
      if (TIFFReadScanline (ctx->tif, ctx->raw, y, 0) < 0 || ctx->failed)
        return FALSE;
      unpack (ctx->raw, (gsize) ctx->width * ctx->spp, ctx->bps, ctx->band, 1);
      if (!emit_rows (ctx, y, 1, error))
        return FALSE;
    }
  return TRUE;
}

/* Planar strips: a band of rows per strip, each plane into its samples. */
static gboolean
read_planar_strips (TiffLoad *ctx, guint32 rows_per_strip, GError **error)
{
  gsize sample_size = ctx->wide ? 2 : 1;
  gsize row_size = (gsize) ctx->width * ctx->spp * sample_size;
  tmsize_t plane_row = TIFFScanlineSize (ctx->tif);

  for (guint32 y = 0; y < ctx->height; y += rows_per_strip)
    {
      guint32 n = MIN (rows_per_strip, ctx->height - y);

      for (guint16 p = 0; p < ctx->spp; p++)
        {
          g_snprintf (ctx->where, sizeof ctx->where, "rows %u–%u of %u, "
                      "plane %u", y + 1, y + n, ctx->height, p + 1);
          if (TIFFReadEncodedStrip (ctx->tif, TIFFComputeStrip (ctx->tif, y, p),
                                    ctx->raw, plane_row * n) < plane_row * n
              || ctx->failed)
            return FALSE;
          for (guint32 i = 0; i < n; i++)
            unpack (ctx->raw + i * plane_row, ctx->width, ctx->bps,
                    ctx->band + i * row_size + p * sample_size, ctx->spp);
        }
      if (!emit_rows (ctx, y, n, error))
        return FALSE;
    }
  return TRUE;
}

/* Tiles: a band of rows per row of tiles. */
static gboolean
read_tiles (TiffLoad *ctx, guint32 tile_w, guint32 tile_h, gboolean planar,
            GError **error)
{
  gsize sample_size = ctx->wide ? 2 : 1;
  gsize row_size = (gsize) ctx->width * ctx->spp * sample_size;
  tmsize_t tile_row = TIFFTileRowSize (ctx->tif);
  tmsize_t tile_size = TIFFTileSize (ctx->tif);
  int planes = planar ? ctx->spp : 1;
  gsize per_pixel = planar ? 1 : ctx->spp;

  for (guint32 y = 0; y < ctx->height; y += tile_h)
    {
      guint32 n = MIN (tile_h, ctx->height - y);

      for (guint32 x = 0; x < ctx->width; x += tile_w)
        {
          guint32 m = MIN (tile_w, ctx->width - x);

          for (int p = 0; p < planes; p++)
            {
              g_snprintf (ctx->where, sizeof ctx->where, "the tile at %u,%u",
                          x, y);
              if (TIFFReadTile (ctx->tif, ctx->raw, x, y, 0, p) < tile_size
                  || ctx->failed)
                return FALSE;
              for (guint32 i = 0; i < n; i++)
                unpack (ctx->raw + i * tile_row, m * per_pixel, ctx->bps,
                        ctx->band + i * row_size
                        + ((gsize) x * ctx->spp + p) * sample_size,
                        planar ? ctx->spp : 1);
            }
          if (refsr_io_cancelled (ctx->r, error))
            return FALSE;
        }
      if (!emit_rows (ctx, y, n, error))
        return FALSE;
    }
  return TRUE;
}

/* FALSE with error set, or without it when libtiff failed (the caller
 * describes that). */
static gboolean
decode (TiffLoad *ctx, int *orientation, GError **error)
{
  TIFF *tif = ctx->tif;
  guint16 planar, o;
  gsize sample_size, row_size, band_rows, raw_size;
  guint32 tile_w = 0, tile_h = 0, rows_per_strip = 0;
  gboolean tiled = TIFFIsTiled (tif);

  if (ctx->failed || !read_layout (ctx, error))
    return FALSE;
  TIFFGetFieldDefaulted (tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted (tif, TIFFTAG_ORIENTATION, &o);
  *orientation = o >= 1 && o <= 8 ? o : 1;
  if (tiled)
    {
      if (!TIFFGetField (tif, TIFFTAG_TILEWIDTH, &tile_w)
          || !TIFFGetField (tif, TIFFTAG_TILELENGTH, &tile_h) || tile_w == 0
          || tile_h == 0
          /* tiles much larger than the image are a trap, not a layout */
          || (double) tile_w * tile_h > 4.0 * ctx->width * ctx->height + 65536.0)
        {
          refsr_io_set_error (error, ctx->r, "the file is corrupt (tiles of "
                              "%u×%u for a %u×%u image)", tile_w, tile_h,
                              ctx->width, ctx->height);
          return FALSE;
        }
      band_rows = MIN (tile_h, ctx->height);
      raw_size = TIFFTileSize (tif);
    }
  else if (planar == PLANARCONFIG_SEPARATE && ctx->spp > 1)
    {
      TIFFGetFieldDefaulted (tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
      rows_per_strip = MAX (1, MIN (rows_per_strip, ctx->height));
      band_rows = rows_per_strip;
      raw_size = (gsize) TIFFScanlineSize (tif) * rows_per_strip;
    }
  else
    {
      band_rows = 1;
      raw_size = TIFFScanlineSize (tif);
    }
  if (ctx->failed || raw_size == 0)
    return FALSE;
  ctx->fish = row_fish (ctx);
  sample_size = ctx->wide ? 2 : 1;
  row_size = (gsize) ctx->width * ctx->spp * sample_size;
  if ((ctx->rgb = refsr_io_alloc_pixels (ctx->r, ctx->width, ctx->height, 3,
                                         error)) == NULL
      || (ctx->band = refsr_io_alloc_pixels (ctx->r, row_size, band_rows, 1,
                                             error)) == NULL
      || (ctx->packed = refsr_io_alloc_pixels (ctx->r, ctx->width, 8, 1,
                                               error)) == NULL
      || (ctx->raw = refsr_io_alloc_pixels (ctx->r, raw_size, 1, 1,
                                            error)) == NULL)
    return FALSE;

  ctx->reading_pixels = TRUE;
  if (tiled)
    return read_tiles (ctx, tile_w, tile_h, planar == PLANARCONFIG_SEPARATE,
                       error);
  if (planar == PLANARCONFIG_SEPARATE && ctx->spp > 1)
    return read_planar_strips (ctx, rows_per_strip, error);
  return read_scanlines (ctx, error);
}

gboolean
refsr_io_load_tiff (RefsrIoReader *r, RefsrIoImage *image, GError **error)
{
  static gsize handlers_set;
  TiffLoad *ctx = g_new0 (TiffLoad, 1);
  TIFFOpenOptions *options = TIFFOpenOptionsAlloc ();
  GError *local = NULL;
  gboolean ok = FALSE;
  int orientation = 1;

  if (g_once_init_enter (&handlers_set))
    {
      TIFFSetErrorHandler (global_error);
      TIFFSetWarningHandler (global_warning);
      g_once_init_leave (&handlers_set, 1);
    }
  ctx->r = r;
  current = ctx;
  TIFFOpenOptionsSetErrorHandlerExtR (options, on_error, ctx);
  TIFFOpenOptionsSetWarningHandlerExtR (options, on_warning, ctx);
  TIFFOpenOptionsSetMaxSingleMemAlloc (options, MAX_LIBTIFF_ALLOC);
#if TIFFLIB_VERSION >= 20240911
  TIFFOpenOptionsSetMaxCumulatedMemAlloc (options, 2 * MAX_LIBTIFF_ALLOC);
#endif
  /* the first directory is read, and no other */
  ctx->tif = TIFFClientOpenExt (r->name, "r", ctx, tiff_read, tiff_write,
                                tiff_seek, tiff_close, tiff_size, tiff_map,
                                tiff_unmap, options);
  TIFFOpenOptionsFree (options);
  if (ctx->tif == NULL)
    {
      if (r->hit_end || r->read_failed)
        set_corrupt (ctx, error);
      else
        refsr_io_set_error (error, r, "not a TIFF libtiff can read (%s)",
                            ctx->failed ? ctx->message : "no reason given");
    }
  else
    {
      ok = decode (ctx, &orientation, &local) && !ctx->failed;
      if (local != NULL)
        g_propagate_error (error, local);
      else if (!ok)
        set_corrupt (ctx, error);
      TIFFClose (ctx->tif);
    }
  current = NULL;
  if (ok)
    ok = refsr_io_finish (r, g_steal_pointer (&ctx->rgb), ctx->width,
                          ctx->height, orientation, image, error);
  g_free (ctx->band);
  g_free (ctx->packed);
  g_free (ctx->raw);
  g_free (ctx->rgb);
  g_free (ctx);
  return ok;
}
