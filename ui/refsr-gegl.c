/* refsr-gegl.c — moving pixels between GIMP drawables (through GEGL) and
 * the engine's plain 8-bit RGB buffers, and writing the engine's output
 * into a layer part by part, with GEGL resampling where sizes differ.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include "refsr-gegl.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>

/* Rows converted per gegl_buffer_get/set call: large enough to amortise
 * the call, small enough that the scratch stays a few MiB on wide images. */
#define BAND_ROWS 64

static gboolean
no_memory (GError **error, int width, int height)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
               _("Out of memory while handling a %d × %d image."),
               width, height);
  return FALSE;
}

const Babl *
refsr_gegl_space_of (GimpDrawable *target)
{
  return babl_format_get_space (gimp_drawable_get_format (target));
}

static void
replicate_grey (guint8 *pixels, gsize n_pixels)
{
  /* Backwards, so the expansion can happen in place. */
  for (gsize i = n_pixels; i-- > 0;)
    pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = pixels[i];
}

gboolean
refsr_gegl_read_rgb (GimpDrawable *drawable, GimpDrawable *target,
                     RefsrGeglPixels *pixels, GError **error)
{
  gboolean grey = gimp_drawable_is_gray (target);
  const Babl *format = babl_format_with_space (grey ? "Y' u8" : "R'G'B' u8",
                                               refsr_gegl_space_of (target));
  int width = gimp_drawable_get_width (drawable);
  int height = gimp_drawable_get_height (drawable);
  GeglBuffer *buffer;

  pixels->width = width;
  pixels->height = height;
  pixels->rgb = g_try_malloc ((gsize) width * height * 3);
  if (pixels->rgb == NULL)
    return no_memory (error, width, height);

  buffer = gimp_drawable_get_buffer (drawable);
  gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, width, height), 1.0, format,
                   pixels->rgb, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  g_object_unref (buffer);
  if (grey)
    replicate_grey (pixels->rgb, (gsize) width * height);
  return TRUE;
}

void
refsr_gegl_pixels_clear (RefsrGeglPixels *pixels)
{
  g_clear_pointer (&pixels->rgb, g_free);
  pixels->width = pixels->height = 0;
}


void
refsr_gegl_interleave_planes (const float *sr, int width, int height, int y0,
                              int rows, float *out)
{
  gsize plane = (gsize) width * height;

  for (int y = 0; y < rows; y++)
    for (int x = 0; x < width; x++)
      {
        gsize src = (gsize) (y0 + y) * width + x;
        float *dst = out + 3 * ((gsize) y * width + x);

        for (int c = 0; c < 3; c++)
          dst[c] = (sr[c * plane + src] + 1.0f) * 0.5f;
      }
}

/* A buffer holding a copy of data, or NULL when out of memory. */
static GeglBuffer *
buffer_from_data (const void *data, const Babl *format, int width,
                  int height, GError **error)
{
  GeglBuffer *buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, width, height),
                                        format);

  if (buffer == NULL)
    {
      no_memory (error, width, height);
      return NULL;
    }
  gegl_buffer_set (buffer, GEGL_RECTANGLE (0, 0, width, height), 0, format,
                   data, GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

GeglBuffer *
refsr_gegl_result_confidence (const RefsrResult *result, const Babl *space,
                              GError **error)
{
  gsize n = (gsize) result->lr_width * result->lr_height;
  float *grey = g_try_malloc (n * sizeof (float));
  GeglBuffer *buffer;

  if (grey == NULL)
    {
      no_memory (error, result->lr_width, result->lr_height);
      return NULL;
    }
  /* S is a cosine similarity, in [-1, 1]: a negative one means as little
   * use of the reference as 0 does, and a float image would keep it as a
   * colour below black.  NaN (which the engine's clamped norms rule out)
   * would become black too, not spread through the resampling. */
  for (gsize i = 0; i < n; i++)
    grey[i] = result->S[i] > 0.0f ? MIN (result->S[i], 1.0f) : 0.0f;
  buffer = buffer_from_data (grey, babl_format_with_space ("Y' float", space),
                             result->lr_width, result->lr_height, error);
  g_free (grey);
  return buffer;
}

/* Samples src, in its own format, at the pixels of a width × height grid
 * laid over it, any rectangle of that grid at a time. */
typedef struct
{
  GeglBuffer *src;
  const Babl *format;
  int bpp;
  gboolean same_size;   /* the grid is src's own: copied, not sampled */
  double fx, fy;        /* src pixels per grid pixel */
  GeglBufferMatrix2 jacobian;
  GeglSampler *sampler;
} Resampler;

static void
resampler_init (Resampler *r, GeglBuffer *src, int width, int height)
{
  r->src = src;
  r->format = gegl_buffer_get_format (src);
  r->bpp = babl_format_get_bytes_per_pixel (r->format);
  r->same_size = gegl_buffer_get_width (src) == width
                 && gegl_buffer_get_height (src) == height;
  r->fx = (double) gegl_buffer_get_width (src) / width;
  r->fy = (double) gegl_buffer_get_height (src) / height;
  /* The Jacobian of the output-to-input mapping tells LoHalo how much to
   * blur when reducing, so it does not alias. */
  r->jacobian = (GeglBufferMatrix2) { { { r->fx, 0.0 }, { 0.0, r->fy } } };
  r->sampler = r->same_size ? NULL
      : gegl_buffer_sampler_new_at_level (src, r->format,
                                          r->fx < 1.0 && r->fy < 1.0
                                          ? GEGL_SAMPLER_NOHALO
                                          : GEGL_SAMPLER_LOHALO, 0);
}

/* rect of the grid into out, packed rows of r->format. */
static void
resampler_get (Resampler *r, const GeglRectangle *rect, guint8 *out)
{
  if (r->same_size)
    {
      gegl_buffer_get (r->src, rect, 1.0, r->format, out,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
      return;
    }
  for (int y = rect->y; y < rect->y + rect->height; y++)
    for (int x = rect->x; x < rect->x + rect->width; x++, out += r->bpp)
      gegl_sampler_get (r->sampler, (x + 0.5) * r->fx, (y + 0.5) * r->fy,
                        &r->jacobian, out, GEGL_ABYSS_CLAMP);
}

static void
resampler_clear (Resampler *r)
{
  g_clear_object (&r->sampler);
}

struct RefsrGeglWriter
{
  GimpDrawable *layer;
  GeglBuffer *dest;           /* the layer's pixels */
  int width, height;
  int n_color;                /* 1 (Y') or 3 (R'G'B') */
  const Babl *color_format;   /* the layer's model as float, no alpha */
  const Babl *out_format;     /* the same with alpha */
  GeglBuffer *alpha;          /* the target's alpha ("Y float"); NULL when
                               * the layer has none to fill */
  Resampler alpha_sampler;
  float *scratch;             /* colour, alpha and both merged, one band */
  gsize scratch_pixels;
};

/* The drawable's alpha as a one-channel "Y float" buffer (Y is only the
 * carrier: the values are the alpha, untouched), read a band at a time. */
static GeglBuffer *
read_alpha (GimpDrawable *drawable, GError **error)
{
  int width = gimp_drawable_get_width (drawable);
  int height = gimp_drawable_get_height (drawable);
  float *ya = g_try_malloc ((gsize) BAND_ROWS * width * 2 * sizeof (float));
  GeglBuffer *alpha = ya ? gegl_buffer_new (GEGL_RECTANGLE (0, 0, width,
                                                            height),
                                            babl_format ("Y float"))
                         : NULL;
  GeglBuffer *source;

  if (alpha == NULL)
    {
      g_free (ya);
      no_memory (error, width, height);
      return NULL;
    }
  source = gimp_drawable_get_buffer (drawable);
  for (int y0 = 0; y0 < height; y0 += BAND_ROWS)
    {
      GeglRectangle rect = { 0, y0, width, MIN (BAND_ROWS, height - y0) };
      gsize n = (gsize) rect.width * rect.height;

      gegl_buffer_get (source, &rect, 1.0, babl_format ("YA float"), ya,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      for (gsize i = 0; i < n; i++)
        ya[i] = ya[2 * i + 1];
      gegl_buffer_set (alpha, &rect, 0, babl_format ("Y float"), ya,
                       GEGL_AUTO_ROWSTRIDE);
    }
  g_object_unref (source);
  g_free (ya);
  return alpha;
}

RefsrGeglWriter *
refsr_gegl_writer_new (GimpLayer *layer, GimpDrawable *target, GError **error)
{
  GimpDrawable *drawable = GIMP_DRAWABLE (layer);
  const Babl *space = refsr_gegl_space_of (target);
  gboolean grey = gimp_drawable_is_gray (drawable);
  RefsrGeglWriter *writer = g_new0 (RefsrGeglWriter, 1);

  writer->layer = drawable;
  writer->width = gimp_drawable_get_width (drawable);
  writer->height = gimp_drawable_get_height (drawable);
  writer->n_color = grey ? 1 : 3;
  writer->color_format = babl_format_with_space (grey ? "Y' float"
                                                      : "R'G'B' float", space);
  writer->out_format = babl_format_with_space (grey ? "Y'A float"
                                                    : "R'G'B'A float", space);
  if (gimp_drawable_has_alpha (drawable) && gimp_drawable_has_alpha (target))
    {
      writer->alpha = read_alpha (target, error);
      if (writer->alpha == NULL)
        {
          refsr_gegl_writer_free (writer);
          return NULL;
        }
      resampler_init (&writer->alpha_sampler, writer->alpha, writer->width,
                      writer->height);
    }
  writer->dest = gimp_drawable_get_buffer (drawable);
  if (writer->dest == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   _("GIMP refused the new layer: %s"),
                   gimp_pdb_get_last_error (gimp_get_pdb ()));
      refsr_gegl_writer_free (writer);
      return NULL;
    }
  return writer;
}

static gboolean
ensure_scratch (RefsrGeglWriter *writer, gsize pixels, GError **error)
{
  if (pixels <= writer->scratch_pixels)
    return TRUE;
  g_free (writer->scratch);
  writer->scratch = g_try_malloc (pixels * (2 * writer->n_color + 2)
                                  * sizeof (float));
  writer->scratch_pixels = writer->scratch ? pixels : 0;
  return writer->scratch != NULL
         || no_memory (error, writer->width, writer->height);
}

/* Interleaves n_color colour components and one alpha per pixel. */
static void
merge_alpha (const float *color, int n_color, const float *alpha, float *out,
             gsize n_pixels)
{
  for (gsize i = 0; i < n_pixels; i++)
    {
      for (int c = 0; c < n_color; c++)
        out[i * (n_color + 1) + c] = color[i * n_color + c];
      out[i * (n_color + 1) + n_color] = alpha[i];
    }
}

gboolean
refsr_gegl_writer_put (RefsrGeglWriter *writer, const GeglRectangle *rect,
                       const Babl *format, const void *pixels, GError **error)
{
  const Babl *fish = babl_fish (format, writer->color_format);
  gsize src_row = (gsize) rect->width * babl_format_get_bytes_per_pixel (format);
  gsize band_pixels = (gsize) rect->width * MIN (BAND_ROWS, rect->height);
  float *color, *alpha, *merged;

  if (!ensure_scratch (writer, band_pixels, error))
    return FALSE;
  color = writer->scratch;
  alpha = color + band_pixels * writer->n_color;
  merged = alpha + band_pixels;
  for (int y0 = 0; y0 < rect->height; y0 += BAND_ROWS)
    {
      GeglRectangle band = { rect->x, rect->y + y0, rect->width,
                             MIN (BAND_ROWS, rect->height - y0) };
      gsize n = (gsize) band.width * band.height;

      /* For a grey layer this is where R'G'B' becomes Y': babl weighs the
       * channels by the luminance of the image's own primaries. */
      babl_process (fish, (const guint8 *) pixels + y0 * src_row, color, n);
      if (writer->alpha != NULL)
        {
          resampler_get (&writer->alpha_sampler, &band, (guint8 *) alpha);
          merge_alpha (color, writer->n_color, alpha, merged, n);
          gegl_buffer_set (writer->dest, &band, 0, writer->out_format, merged,
                           GEGL_AUTO_ROWSTRIDE);
        }
      else
        gegl_buffer_set (writer->dest, &band, 0, writer->color_format, color,
                         GEGL_AUTO_ROWSTRIDE);
    }
  return TRUE;
}

gboolean
refsr_gegl_writer_put_resampled (RefsrGeglWriter *writer, GeglBuffer *src,
                                 double progress_from, double progress_to,
                                 GError **error)
{
  Resampler r;
  guint8 *band;
  gboolean ok = TRUE;

  resampler_init (&r, src, writer->width, writer->height);
  band = g_try_malloc ((gsize) BAND_ROWS * writer->width * r.bpp);
  if (band == NULL)
    ok = no_memory (error, writer->width, writer->height);
  for (int y0 = 0; ok && y0 < writer->height; y0 += BAND_ROWS)
    {
      GeglRectangle rect = { 0, y0, writer->width,
                             MIN (BAND_ROWS, writer->height - y0) };

      resampler_get (&r, &rect, band);
      ok = refsr_gegl_writer_put (writer, &rect, r.format, band, error);
      refsr_progress_update (progress_from + (progress_to - progress_from)
                            * (y0 + rect.height) / writer->height);
    }
  g_free (band);
  resampler_clear (&r);
  return ok;
}

void
refsr_gegl_writer_free (RefsrGeglWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->dest != NULL)
    {
      gegl_buffer_flush (writer->dest);
      g_object_unref (writer->dest);
      /* Only redraws what shows the layer: the pixels are written already. */
      gimp_drawable_update (writer->layer, 0, 0, writer->width,
                            writer->height);
    }
  if (writer->alpha != NULL)
    resampler_clear (&writer->alpha_sampler);
  g_clear_object (&writer->alpha);
  g_free (writer->scratch);
  g_free (writer);
}

/* The log of REFSR_PROGRESS_LOG, opened on the first call; NULL when it is
 * unset or cannot be opened (the progress itself never depends on it). */
static gint64 progress_log_start;

static FILE *
progress_log (void)
{
  static gboolean opened = FALSE;
  static FILE *log = NULL;
  const char *path;

  if (opened)
    return log;
  opened = TRUE;
  progress_log_start = g_get_monotonic_time ();
  path = g_getenv ("REFSR_PROGRESS_LOG");
  if (path != NULL && *path != '\0' && (log = fopen (path, "a")) != NULL)
    {
      setvbuf (log, NULL, _IOLBF, 0);
      fprintf (log, "RUN\n");
    }
  return log;
}

void
refsr_progress_init (const char *text)
{
  if (progress_log () != NULL)
    fprintf (progress_log (), "START %s\n", text);
  gimp_progress_init (text);
}

void
refsr_progress_set_text (const char *text)
{
  if (progress_log () != NULL)
    fprintf (progress_log (), "TEXT %s\n", text);
  gimp_progress_set_text (text);
}

void
refsr_progress_update (double fraction)
{
  if (progress_log () != NULL)
    fprintf (progress_log (), "VALUE %.6f %.3f\n", fraction,
             (g_get_monotonic_time () - progress_log_start) / 1e6);
  gimp_progress_update (fraction);
}
