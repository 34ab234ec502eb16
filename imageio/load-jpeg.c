/* load-jpeg.c — JPEG with libjpeg(-turbo).  The header is read and the
 * size checked before jpeg_start_decompress allocates anything for the
 * pixels.  libjpeg's fatal errors come back here by longjmp (its default
 * would print and exit()); its warnings about the data ("Corrupt JPEG
 * data: ...", "Premature end of JPEG file") end the load the same way.
 * Nothing is printed.  A progress monitor polls the cancel flag while
 * progressive scans are read, and refuses files with more scans than any
 * encoder writes (each scan walks the whole image: a few bytes per scan
 * could otherwise cost minutes).
 * Colour: grey and YCbCr/RGB as they are; CMYK and YCCK through babl as
 * GIMP 3.0's import does ("cmyk u8" — Adobe's inverted CMYK, which is
 * what files with an Adobe marker hold — in the space of an embedded CMYK
 * profile, else babl's naive conversion).  A CMYK file without Adobe
 * marker is read as plain CMYK ("CMYK u8"); GIMP reads it inverted.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "load-private.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* Encoders write about 10 scans; jpegtran's most elaborate scripts well
 * under 100.  libjpeg-turbo's own tools suggest such a limit. */
#define MAX_SCANS 500

typedef enum
{
  STAGE_HEADER,
  STAGE_SCANS,
  STAGE_ROWS,
  STAGE_END
} Stage;

/* On the heap: what libjpeg's callbacks change survives their longjmp. */
typedef struct
{
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr err;
  struct jpeg_progress_mgr progress;
  struct jpeg_source_mgr source;
  RefsrIoReader *r;
  jmp_buf jmp;
  char message[JMSG_LENGTH_MAX];
  gboolean created, cancelled, too_many_scans;
  gboolean ended;     /* the data ran out (a short read is no sign of it:
                       * the source asks for 64 KB at a time) */
  Stage stage;
  guint8 input[65536];
  guint8 *row, *rgb;
} JpegLoad;

static void
error_exit (j_common_ptr cinfo)
{
  JpegLoad *ctx = cinfo->client_data;

  cinfo->err->format_message (cinfo, ctx->message);
  longjmp (ctx->jmp, 1);
}

/* Warnings (level -1) about the data end the load; the two about
 * metadata only (an unknown JFIF revision, a bad ICC marker, after which
 * the profile is ignored) do not.  Trace messages are dropped. */
static void
emit_message (j_common_ptr cinfo, int level)
{
  JpegLoad *ctx = cinfo->client_data;
  int code = cinfo->err->msg_code;

  if (level >= 0 || code == JWRN_JFIF_MAJOR || code == JWRN_BOGUS_ICC)
    return;
  cinfo->err->num_warnings++;
  cinfo->err->format_message (cinfo, ctx->message);
  longjmp (ctx->jmp, 1);
}

static void
output_message (j_common_ptr cinfo)
{
  (void) cinfo;
}

static void
progress_monitor (j_common_ptr cinfo)
{
  JpegLoad *ctx = cinfo->client_data;

  if (ctx->cinfo.input_scan_number > MAX_SCANS)
    {
      ctx->too_many_scans = TRUE;
      longjmp (ctx->jmp, 1);
    }
  if (ctx->r->cancel != NULL && atomic_load (ctx->r->cancel))
    {
      ctx->cancelled = TRUE;
      longjmp (ctx->jmp, 1);
    }
}

/* The data source: the reader (a file or memory), 64 KB at a time; at the
 * end a fake EOI marker after a warning, as libjpeg's own sources do. */
static void
init_source (j_decompress_ptr cinfo)
{
  (void) cinfo;
}

static boolean
fill_input_buffer (j_decompress_ptr cinfo)
{
  static const JOCTET eoi[2] = { 0xFF, JPEG_EOI };
  JpegLoad *ctx = cinfo->client_data;
  gsize n = refsr_io_read (ctx->r, ctx->input, sizeof ctx->input);

  if (n == 0)
    {
      ctx->ended = TRUE;
      WARNMS (cinfo, JWRN_JPEG_EOF);
      ctx->source.next_input_byte = eoi;
      ctx->source.bytes_in_buffer = 2;
      return TRUE;
    }
  ctx->source.next_input_byte = ctx->input;
  ctx->source.bytes_in_buffer = n;
  return TRUE;
}

static void
skip_input_data (j_decompress_ptr cinfo, long n)
{
  JpegLoad *ctx = cinfo->client_data;

  if (n <= 0)
    return;
  while ((gsize) n > ctx->source.bytes_in_buffer)
    {
      n -= (long) ctx->source.bytes_in_buffer;
      fill_input_buffer (cinfo);
    }
  ctx->source.next_input_byte += n;
  ctx->source.bytes_in_buffer -= n;
}

static void
term_source (j_decompress_ptr cinfo)
{
  (void) cinfo;
}

static void
set_corrupt (JpegLoad *ctx, GError **error)
{
  char *at;

  if (ctx->cancelled)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
                   "cancelled while reading '%s'; nothing was written",
                   ctx->r->name);
      return;
    }
  if (ctx->too_many_scans)
    {
      refsr_io_set_error (error, ctx->r, "the file is corrupt or hostile "
                          "(more than %d progressive scans)", MAX_SCANS);
      return;
    }
  switch (ctx->stage)
    {
    case STAGE_HEADER:
      at = g_strdup ("in its header");
      break;
    case STAGE_SCANS:
      at = g_strdup_printf ("in scan %d", ctx->cinfo.input_scan_number);
      break;
    case STAGE_END:
      at = g_strdup ("after the last row");
      break;
    case STAGE_ROWS:
    default:
      at = g_strdup_printf ("row %u of %u", ctx->cinfo.output_scanline + 1,
                            ctx->cinfo.output_height);
      break;
    }
  refsr_io_set_decode_error (error, ctx->r, ctx->ended, ctx->message, at);
  g_free (at);
}

static int
exif_orientation (j_decompress_ptr cinfo)
{
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6
        && memcmp (m->data, "Exif\0\0", 6) == 0)
      return refsr_io_exif_orientation (m->data, m->data_length);
  return 1;
}

/* Everything that may call libjpeg; FALSE with error set for what is not
 * libjpeg's error (those longjmp). */
static gboolean
decode (JpegLoad *ctx, int *width, int *height, int *orientation,
        GError **error)
{
  j_decompress_ptr cinfo = &ctx->cinfo;
  RefsrIoModel model;
  const char *format;
  const Babl *fish, *space = NULL;
  JOCTET *icc = NULL;
  unsigned int icc_size = 0;

  jpeg_create_decompress (cinfo);
  ctx->created = TRUE;
  cinfo->client_data = ctx;
  ctx->source.init_source = init_source;
  ctx->source.fill_input_buffer = fill_input_buffer;
  ctx->source.skip_input_data = skip_input_data;
  ctx->source.resync_to_restart = jpeg_resync_to_restart;
  ctx->source.term_source = term_source;
  cinfo->src = &ctx->source;
  ctx->progress.progress_monitor = progress_monitor;
  cinfo->progress = &ctx->progress;
  jpeg_save_markers (cinfo, JPEG_APP0 + 1, 0xFFFF);  /* EXIF */
  jpeg_save_markers (cinfo, JPEG_APP0 + 2, 0xFFFF);  /* ICC profile */

  ctx->stage = STAGE_HEADER;
  jpeg_read_header (cinfo, TRUE);
  if (!refsr_io_check_size (ctx->r, cinfo->image_width, cinfo->image_height,
                            error))
    return FALSE;
  switch (cinfo->jpeg_color_space)
    {
    case JCS_GRAYSCALE:
      cinfo->out_color_space = JCS_GRAYSCALE;
      format = "Y' u8";
      model = REFSR_IO_MODEL_GRAY;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo->out_color_space = JCS_RGB;
      format = "R'G'B' u8";
      model = REFSR_IO_MODEL_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;
      format = cinfo->saw_Adobe_marker ? "cmyk u8" : "CMYK u8";
      model = REFSR_IO_MODEL_CMYK;
      break;
    default:
      refsr_io_set_error (error, ctx->r, "unsupported JPEG colour model (%d "
                          "components)", cinfo->num_components);
      return FALSE;
    }
  if (jpeg_read_icc_profile (cinfo, &icc, &icc_size))
    {
      space = refsr_io_icc_space (icc, icc_size, model);
      free (icc);
    }
  fish = refsr_io_row_fish (format, space);
  *orientation = exif_orientation (cinfo);

  ctx->stage = STAGE_SCANS;
  jpeg_start_decompress (cinfo);
  if (cinfo->output_width != cinfo->image_width
      || cinfo->output_height != cinfo->image_height)
    {
      refsr_io_set_error (error, ctx->r, "the decoder changed the size");
      return FALSE;
    }
  *width = (int) cinfo->output_width;
  *height = (int) cinfo->output_height;
  if ((ctx->rgb = refsr_io_alloc_pixels (ctx->r, *width, *height, 3,
                                         error)) == NULL
      || (ctx->row = refsr_io_alloc_pixels (ctx->r, *width,
                                            cinfo->output_components, 1,
                                            error)) == NULL)
    return FALSE;
  ctx->stage = STAGE_ROWS;
  while (cinfo->output_scanline < cinfo->output_height)
    {
      JSAMPROW rows[1] = { ctx->row };
      guint8 *out = ctx->rgb + (gsize) cinfo->output_scanline * *width * 3;

      if (jpeg_read_scanlines (cinfo, rows, 1) != 1)
        {
          refsr_io_set_error (error, ctx->r, "the decoder stopped at row %u "
                              "of %u", cinfo->output_scanline + 1,
                              cinfo->output_height);
          return FALSE;
        }
      babl_process (fish, ctx->row, out, *width);
      if (refsr_io_cancelled (ctx->r, error))
        return FALSE;
    }
  ctx->stage = STAGE_END;
  jpeg_finish_decompress (cinfo);
  return TRUE;
}

gboolean
refsr_io_load_jpeg (RefsrIoReader *r, RefsrIoImage *image, GError **error)
{
  JpegLoad *ctx = g_new0 (JpegLoad, 1);
  gboolean ok = FALSE;
  int width = 0, height = 0, orientation = 1;

  ctx->r = r;
  ctx->cinfo.err = jpeg_std_error (&ctx->err);
  ctx->err.error_exit = error_exit;
  ctx->err.emit_message = emit_message;
  ctx->err.output_message = output_message;
  ctx->cinfo.client_data = ctx;
  if (setjmp (ctx->jmp) == 0)
    ok = decode (ctx, &width, &height, &orientation, error);
  else
    set_corrupt (ctx, error);
  if (ctx->created)
    jpeg_destroy_decompress (&ctx->cinfo);
  if (ok)
    ok = refsr_io_finish (r, g_steal_pointer (&ctx->rgb), width, height,
                          orientation, image, error);
  g_free (ctx->row);
  g_free (ctx->rgb);
  g_free (ctx);
  return ok;
}
