/* refsr-gegl.c — moving pixels between GIMP drawables (through GEGL) and
 * the engine's plain 8-bit RGB buffers, and GEGL resampling of the results.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include "refsr-gegl.h"

#include <glib/gi18n-lib.h>

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

/* A linear buffer holding a copy of data, or NULL when out of memory. */
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
refsr_gegl_read_alpha (GimpDrawable *drawable, GError **error)
{
  int width = gimp_drawable_get_width (drawable);
  int height = gimp_drawable_get_height (drawable);
  gsize n = (gsize) width * height;
  float *ya = g_try_malloc (n * 2 * sizeof (float));
  GeglBuffer *drawable_buffer, *alpha;

  if (ya == NULL)
    {
      no_memory (error, width, height);
      return NULL;
    }
  drawable_buffer = gimp_drawable_get_buffer (drawable);
  gegl_buffer_get (drawable_buffer, GEGL_RECTANGLE (0, 0, width, height), 1.0,
                   babl_format ("YA float"), ya, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  g_object_unref (drawable_buffer);
  for (gsize i = 0; i < n; i++)
    ya[i] = ya[2 * i + 1];
  alpha = buffer_from_data (ya, babl_format ("Y float"), width, height, error);
  g_free (ya);
  return alpha;
}

/* Planar [-1, 1] rows of the engine's float output into interleaved
 * [0, 1] rows, one band at a time. */
static void
fill_from_planes (GeglBuffer *buffer, const RefsrResult *result,
                  const Babl *format, float *band)
{
  gsize plane = (gsize) result->width * result->height;

  for (int y0 = 0; y0 < result->height; y0 += BAND_ROWS)
    {
      int rows = MIN (BAND_ROWS, result->height - y0);

      for (int y = 0; y < rows; y++)
        for (int x = 0; x < result->width; x++)
          {
            gsize src = (gsize) (y0 + y) * result->width + x;
            float *dst = band + 3 * ((gsize) y * result->width + x);

            for (int c = 0; c < 3; c++)
              dst[c] = (result->sr[c * plane + src] + 1.0f) * 0.5f;
          }
      gegl_buffer_set (buffer, GEGL_RECTANGLE (0, y0, result->width, rows), 0,
                       format, band, GEGL_AUTO_ROWSTRIDE);
    }
}

GeglBuffer *
refsr_gegl_result_color (const RefsrResult *result, const Babl *space,
                         gboolean exact_u8, GError **error)
{
  const Babl *format = babl_format_with_space ("R'G'B' float", space);
  GeglRectangle extent = { 0, 0, result->width, result->height };
  GeglBuffer *buffer;
  float *band;

  if (exact_u8 || result->sr == NULL)
    return buffer_from_data (result->pixels,
                             babl_format_with_space ("R'G'B' u8", space),
                             result->width, result->height, error);

  band = g_try_malloc ((gsize) BAND_ROWS * result->width * 3 * sizeof (float));
  buffer = band ? gegl_buffer_new (&extent, format) : NULL;
  if (buffer == NULL)
    {
      g_free (band);
      no_memory (error, result->width, result->height);
      return NULL;
    }
  fill_from_planes (buffer, result, format, band);
  g_free (band);
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

GeglBuffer *
refsr_gegl_resample (GeglBuffer *src, int width, int height, GError **error)
{
  const Babl *format = gegl_buffer_get_format (src);
  int bpp = babl_format_get_bytes_per_pixel (format);
  double fx = (double) gegl_buffer_get_width (src) / width;
  double fy = (double) gegl_buffer_get_height (src) / height;
  /* The Jacobian of the output-to-input mapping tells LoHalo how much to
   * blur when reducing, so it does not alias. */
  GeglBufferMatrix2 jacobian = { { { fx, 0.0 }, { 0.0, fy } } };
  GeglSamplerType type = fx < 1.0 && fy < 1.0 ? GEGL_SAMPLER_NOHALO
                                              : GEGL_SAMPLER_LOHALO;
  guint8 *row = g_try_malloc ((gsize) width * bpp);
  GeglBuffer *dst;
  GeglSampler *sampler;

  dst = row ? gegl_buffer_new (GEGL_RECTANGLE (0, 0, width, height), format)
            : NULL;
  if (dst == NULL)
    {
      g_free (row);
      no_memory (error, width, height);
      return NULL;
    }
  sampler = gegl_buffer_sampler_new_at_level (src, format, type, 0);
  for (int y = 0; y < height; y++)
    {
      for (int x = 0; x < width; x++)
        gegl_sampler_get (sampler, (x + 0.5) * fx, (y + 0.5) * fy, &jacobian,
                          row + (gsize) x * bpp, GEGL_ABYSS_CLAMP);
      gegl_buffer_set (dst, GEGL_RECTANGLE (0, y, width, 1), 0, format, row,
                       GEGL_AUTO_ROWSTRIDE);
    }
  g_object_unref (sampler);
  g_free (row);
  return dst;
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
refsr_gegl_write_layer (GimpLayer *layer, GeglBuffer *color,
                        GeglBuffer *alpha, const Babl *space, GError **error)
{
  GimpDrawable *drawable = GIMP_DRAWABLE (layer);
  gboolean grey = gimp_drawable_is_gray (drawable);
  gboolean has_alpha = alpha != NULL && gimp_drawable_has_alpha (drawable);
  int n_color = grey ? 1 : 3;
  const Babl *color_format = babl_format_with_space (grey ? "Y' float"
                                                          : "R'G'B' float", space);
  const Babl *out_format = babl_format_with_space (grey ? "Y'A float"
                                                        : "R'G'B'A float", space);
  int width = gegl_buffer_get_width (color);
  int height = gegl_buffer_get_height (color);
  gsize band_pixels = (gsize) BAND_ROWS * width;
  float *band = g_try_malloc (band_pixels * (2 * n_color + 2) * sizeof (float));
  float *alpha_band = band + band_pixels * n_color;
  float *merged = alpha_band + band_pixels;
  GeglBuffer *target;

  if (band == NULL)
    return no_memory (error, width, height);
  target = gimp_drawable_get_buffer (drawable);
  if (target == NULL)
    {
      g_free (band);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   _("GIMP refused the new layer: %s"),
                   gimp_pdb_get_last_error (gimp_get_pdb ()));
      return FALSE;
    }
  for (int y0 = 0; y0 < height; y0 += BAND_ROWS)
    {
      GeglRectangle rect = { 0, y0, width, MIN (BAND_ROWS, height - y0) };

      /* For a grey layer this read is where R'G'B' becomes Y': babl weighs
       * the channels by the luminance of the image's own primaries, as
       * GIMP's Image ▸ Mode ▸ Grayscale does. */
      gegl_buffer_get (color, &rect, 1.0, color_format, band,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
      if (has_alpha)
        {
          gegl_buffer_get (alpha, &rect, 1.0, babl_format ("Y float"),
                           alpha_band, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
          merge_alpha (band, n_color, alpha_band, merged,
                       (gsize) rect.width * rect.height);
          gegl_buffer_set (target, &rect, 0, out_format, merged,
                           GEGL_AUTO_ROWSTRIDE);
        }
      else
        gegl_buffer_set (target, &rect, 0, color_format, band,
                         GEGL_AUTO_ROWSTRIDE);
    }
  g_object_unref (target);
  g_free (band);
  /* Only redraws what shows the layer: the pixels are written already. */
  gimp_drawable_update (drawable, 0, 0, width, height);
  return TRUE;
}
