/* load-png.c — PNG with libpng.  IHDR is read and checked before any
 * row; rows are read one at a time (all passes of an interlaced image into
 * one buffer first) and converted through babl; the cancel flag is polled
 * after each.  libpng's errors come back here by longjmp; its warnings
 * about the image data and every checksum error end the load (a warning
 * about an ancillary chunk, such as the common "iCCP: known incorrect sRGB
 * profile", only drops that chunk, as libpng does).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "load-private.h"

#include <setjmp.h>
#include <string.h>

#include <png.h>

typedef enum
{
  STAGE_HEADER,
  STAGE_ROWS,
  STAGE_END
} Stage;

/* On the heap: what libpng's callbacks change survives their longjmp. */
typedef struct
{
  RefsrIoReader *r;
  png_structp png;
  png_infop info;
  jmp_buf jmp;
  char message[256];  /* libpng's error, or its first warning about data */
  gboolean warned;
  Stage stage;
  int row, height, pass, passes;
  guint8 *native;     /* rows as libpng gives them */
  guint8 *rgb;
} PngLoad;

static void
on_error (png_structp png, png_const_charp message)
{
  PngLoad *ctx = png_get_error_ptr (png);

  g_strlcpy (ctx->message, message, sizeof ctx->message);
  longjmp (ctx->jmp, 1);
}

/* libpng names the chunk a warning is about ("iCCP: ..."); a lower-case
 * first letter marks an ancillary chunk, which holds no pixels. */
static gboolean
about_ancillary_chunk (const char *message)
{
  return g_ascii_islower (message[0]) && g_ascii_isalpha (message[1])
         && g_ascii_isalpha (message[2]) && g_ascii_isalpha (message[3])
         && message[4] == ':';
}

static void
on_warning (png_structp png, png_const_charp message)
{
  PngLoad *ctx = png_get_error_ptr (png);

  if (about_ancillary_chunk (message) || ctx->warned)
    return;
  g_strlcpy (ctx->message, message, sizeof ctx->message);
  ctx->warned = TRUE;
}

static void
read_data (png_structp png, png_bytep out, size_t n)
{
  PngLoad *ctx = png_get_io_ptr (png);

  if (refsr_io_read (ctx->r, out, n) < n)
    png_error (png, "short read");
}

/* Where the reading stopped, for messages. */
static char *
where (const PngLoad *ctx)
{
  switch (ctx->stage)
    {
    case STAGE_HEADER:
      return g_strdup ("in its header");
    case STAGE_END:
      return g_strdup ("after the last row");
    case STAGE_ROWS:
    default:
      if (ctx->passes > 1)
        return g_strdup_printf ("row %d of %d, pass %d of %d", ctx->row + 1,
                                ctx->height, ctx->pass + 1, ctx->passes);
      return g_strdup_printf ("row %d of %d", ctx->row + 1, ctx->height);
    }
}

static void
set_corrupt (PngLoad *ctx, GError **error)
{
  char *at = where (ctx);

  refsr_io_set_decode_error (error, ctx->r, ctx->r->hit_end, ctx->message,
                             at);
  g_free (at);
}

static const char *
encoding (int channels, int depth)
{
  static const char *const names[2][4] = {
    { "Y' u8", "Y'A u8", "R'G'B' u8", "R'G'B'A u8" },
    { "Y' u16", "Y'A u16", "R'G'B' u16", "R'G'B'A u16" },
  };

  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16))
    return NULL;
  return names[depth == 16][channels - 1];
}

static int
exif_orientation (PngLoad *ctx)
{
  png_uint_32 size = 0;
  png_bytep exif = NULL;

  if (png_get_eXIf_1 (ctx->png, ctx->info, &size, &exif) == 0)
    return 1;
  return refsr_io_exif_orientation (exif, size);
}

/* Everything that may call libpng; FALSE with error set for what is not
 * libpng's error (those longjmp). */
static gboolean
decode (PngLoad *ctx, int *width, int *orientation, GError **error)
{
  png_structp png = ctx->png;
  png_infop info = ctx->info;
  png_uint_32 w, h;
  int depth, color_type, interlace, channels;
  const char *format;
  const Babl *fish, *space = NULL;
  png_charp icc_name;
  png_bytep icc;
  png_uint_32 icc_size;
  int icc_compression;
  gsize rowbytes;

  png_set_read_fn (png, ctx, read_data);
  png_set_crc_action (png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  /* the size is checked below, against the caller's limits */
  png_set_user_limits (png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  ctx->stage = STAGE_HEADER;
  png_read_info (png, info);
  png_get_IHDR (png, info, &w, &h, &depth, &color_type, &interlace, NULL,
                NULL);
  if (ctx->warned)
    {
      set_corrupt (ctx, error);
      return FALSE;
    }
  if (!refsr_io_check_size (ctx->r, w, h, error))
    return FALSE;
  ctx->height = (int) h;
  *width = (int) w;

  if (color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (png);
  if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  if (depth == 16 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
    png_set_swap (png);
  ctx->passes = png_set_interlace_handling (png);
  png_read_update_info (png, info);
  channels = png_get_channels (png, info);
  depth = png_get_bit_depth (png, info);
  ctx->r->bit_depth = depth;
  rowbytes = png_get_rowbytes (png, info);
  format = encoding (channels, depth);
  if (format == NULL || rowbytes != (gsize) w * channels * (depth / 8))
    {
      refsr_io_set_error (error, ctx->r, "unsupported PNG layout (%d "
                          "channels of %d bits)", channels, depth);
      return FALSE;
    }
  if (png_get_iCCP (png, info, &icc_name, &icc_compression, &icc,
                    &icc_size) != 0)
    space = refsr_io_icc_space (icc, icc_size, channels <= 2
                                ? REFSR_IO_MODEL_GRAY : REFSR_IO_MODEL_RGB);
  fish = refsr_io_row_fish (format, space);
  *orientation = exif_orientation (ctx);

  if ((ctx->rgb = refsr_io_alloc_pixels (ctx->r, w, h, 3, error)) == NULL
      || (ctx->native = refsr_io_alloc_pixels (ctx->r, ctx->passes > 1 ? h : 1,
                                               rowbytes, 1, error)) == NULL)
    return FALSE;
  ctx->stage = STAGE_ROWS;
  for (ctx->pass = 0; ctx->pass < ctx->passes; ctx->pass++)
    for (ctx->row = 0; ctx->row < (int) h; ctx->row++)
      {
        guint8 *row = ctx->native + (ctx->passes > 1 ? ctx->row * rowbytes : 0);

        png_read_row (png, row, NULL);
        if (ctx->warned)
          {
            set_corrupt (ctx, error);
            return FALSE;
          }
        if (refsr_io_cancelled (ctx->r, error))
          return FALSE;
        if (ctx->passes == 1)
          babl_process (fish, row, ctx->rgb + (gsize) ctx->row * w * 3, w);
      }
  ctx->pass = ctx->passes - 1;
  ctx->stage = STAGE_END;
  /* the rest of the image data and every chunk up to IEND, with their
   * checksums; an eXIf chunk may come after the image data */
  png_read_end (png, info);
  if (ctx->warned)
    {
      set_corrupt (ctx, error);
      return FALSE;
    }
  if (ctx->passes > 1)
    babl_process (fish, ctx->native, ctx->rgb, (long) w * h);
  *orientation = exif_orientation (ctx);
  return TRUE;
}

gboolean
refsr_io_load_png (RefsrIoReader *r, RefsrIoImage *image, GError **error)
{
  PngLoad *ctx = g_new0 (PngLoad, 1);
  gboolean ok = FALSE;
  int width = 0, orientation = 1;

  ctx->r = r;
  ctx->png = png_create_read_struct (PNG_LIBPNG_VER_STRING, ctx, on_error,
                                     on_warning);
  if (ctx->png != NULL)
    ctx->info = png_create_info_struct (ctx->png);
  if (ctx->info == NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                 "Out of memory reading '%s'", r->name);
  else if (setjmp (ctx->jmp) == 0)
    ok = decode (ctx, &width, &orientation, error);
  else
    set_corrupt (ctx, error);
  png_destroy_read_struct (&ctx->png, &ctx->info, NULL);
  if (ok)
    ok = refsr_io_finish (r, g_steal_pointer (&ctx->rgb), width, ctx->height,
                          orientation, image, error);
  g_free (ctx->native);
  g_free (ctx->rgb);
  g_free (ctx);
  return ok;
}
