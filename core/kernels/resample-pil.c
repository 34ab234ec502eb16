/* resample-pil.c — Pillow's BICUBIC resize on 8-bit pixels, bit-exact.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TTSR builds LR↑ and Ref↓↑ with PIL before the network sees them, and the
 * LTE features (hence the texture search) depend on every bit of those
 * images, so this follows Pillow's fixed-point resampler exactly (spec
 * §3.3): double-precision Keys cubic with a = -0.5, support widened by the
 * reduction factor, weights normalised by their sum and rounded to 22-bit
 * integers, a horizontal pass then a vertical pass, each rounded and
 * clipped to uint8, a pass skipped when its size does not change.
 */
#include "resample.h"

#include <math.h>
#include <string.h>

#define PIL_PRECISION_BITS 22
#define PIL_CUBIC_A (-0.5)

/* Integer weights of one axis: output index o reads taps [first[o],
 * first[o] + count[o]) of the input with weights weights[o * max_taps + j]. */
typedef struct
{
  int max_taps;
  int *first;
  int *count;
  gint32 *weights;
} PilAxis;

static double
pil_cubic (double x)
{
  /* Evaluated in Pillow's Horner order: the last bit can reach the
   * rounded 22-bit weight. */
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((PIL_CUBIC_A + 2.0) * x - (PIL_CUBIC_A + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * PIL_CUBIC_A;
  return 0.0;
}

static gint32
pil_fixed_point (double w)
{
  double scaled = w * (double) (1 << PIL_PRECISION_BITS);
  return (gint32) (w < 0.0 ? scaled - 0.5 : scaled + 0.5);
}

static void
pil_axis_clear (PilAxis *axis)
{
  g_free (axis->first);
  g_free (axis->count);
  g_free (axis->weights);
  memset (axis, 0, sizeof *axis);
}

/* Computes the taps of output index o into raw (double) and stores them
 * rounded into the axis tables. */
static void
pil_axis_fill_one (PilAxis *axis, int o, int in_len, double scale,
                   double support, double inv_filter_scale, double *raw)
{
  double center = ((double) o + 0.5) * scale;
  int first = (int) (center - support + 0.5);
  int last = (int) (center + support + 0.5);
  double sum = 0.0;

  if (first < 0)
    first = 0;
  if (last > in_len)
    last = in_len;
  for (int j = 0; j < last - first; j++)
    {
      raw[j] = pil_cubic (((double) (first + j) - center + 0.5)
                          * inv_filter_scale);
      sum += raw[j];
    }
  for (int j = 0; j < last - first; j++)
    {
      double w = sum != 0.0 ? raw[j] / sum : raw[j];
      axis->weights[(gsize) o * axis->max_taps + j] = pil_fixed_point (w);
    }
  axis->first[o] = first;
  axis->count[o] = last - first;
}

static gboolean
pil_axis_init (PilAxis *axis, int in_len, int out_len, GError **error)
{
  double scale = (double) in_len / (double) out_len;
  double filter_scale = scale < 1.0 ? 1.0 : scale;
  double support = 2.0 * filter_scale;
  double inv_filter_scale = 1.0 / filter_scale;
  double *raw;

  memset (axis, 0, sizeof *axis);
  axis->max_taps = (int) ceil (support) * 2 + 1;
  axis->first = refsr_try_alloc (out_len, sizeof (int), error);
  axis->count = axis->first ? refsr_try_alloc (out_len, sizeof (int), error)
                            : NULL;
  axis->weights = axis->count
                      ? refsr_try_alloc ((gsize) out_len * axis->max_taps,
                                         sizeof (gint32), error)
                      : NULL;
  raw = axis->weights ? refsr_try_alloc (axis->max_taps, sizeof (double),
                                         error)
                      : NULL;
  if (raw == NULL)
    {
      pil_axis_clear (axis);
      return FALSE;
    }
  for (int o = 0; o < out_len; o++)
    pil_axis_fill_one (axis, o, in_len, scale, support, inv_filter_scale,
                       raw);
  g_free (raw);
  return TRUE;
}

static inline guint8
pil_clip8 (gint32 acc)
{
  /* acc holds value · 2^22 + 2^21; the shift floors, as Pillow's does. */
  gint32 v = acc >> PIL_PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (guint8) v;
}

static void
pil_pass_horizontal (const guint8 *in, int in_stride, int rows, int channels,
                     const PilAxis *axis, guint8 *out, int out_w)
{
  for (int y = 0; y < rows; y++)
    {
      const guint8 *src = in + (gsize) y * in_stride;
      guint8 *dst = out + (gsize) y * out_w * channels;

      for (int x = 0; x < out_w; x++)
        {
          const gint32 *k = axis->weights + (gsize) x * axis->max_taps;
          const guint8 *taps = src + (gsize) axis->first[x] * channels;

          for (int c = 0; c < channels; c++)
            {
              gint32 acc = 1 << (PIL_PRECISION_BITS - 1);
              for (int j = 0; j < axis->count[x]; j++)
                acc += (gint32) taps[j * channels + c] * k[j];
              dst[x * channels + c] = pil_clip8 (acc);
            }
        }
    }
}

/* Row-streaming vertical pass: each output row accumulates whole input
 * rows into one integer row, so memory is read sequentially. */
static gboolean
pil_pass_vertical (const guint8 *in, int in_stride, int row_len,
                   const PilAxis *axis, guint8 *out, int out_h,
                   GError **error)
{
  gint32 *acc = refsr_try_alloc (row_len, sizeof (gint32), error);

  if (acc == NULL)
    return FALSE;
  for (int y = 0; y < out_h; y++)
    {
      const gint32 *k = axis->weights + (gsize) y * axis->max_taps;
      guint8 *dst = out + (gsize) y * row_len;

      for (int i = 0; i < row_len; i++)
        acc[i] = 1 << (PIL_PRECISION_BITS - 1);
      for (int j = 0; j < axis->count[y]; j++)
        {
          const guint8 *src = in + (gsize) (axis->first[y] + j) * in_stride;
          gint32 kj = k[j];
          for (int i = 0; i < row_len; i++)
            acc[i] += (gint32) src[i] * kj;
        }
      for (int i = 0; i < row_len; i++)
        dst[i] = pil_clip8 (acc[i]);
    }
  g_free (acc);
  return TRUE;
}

static void
pil_copy (const guint8 *in, int in_stride, int row_len, int rows,
          guint8 *out)
{
  for (int y = 0; y < rows; y++)
    memcpy (out + (gsize) y * row_len, in + (gsize) y * in_stride, row_len);
}

gboolean
refsr_pil_resize (const guint8 *in, int in_w, int in_h, int in_stride,
                  int channels, guint8 *out, int out_w, int out_h,
                  GError **error)
{
  PilAxis h_axis = { 0 }, v_axis = { 0 };
  guint8 *mid = NULL;
  gboolean ok = FALSE;

  if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || channels < 1
      || (gint64) MAX (in_w, out_w) * channels > G_MAXINT
      || in_stride < in_w * channels)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "Cannot resize a %d×%d image with %d channels to %d×%d",
                   in_w, in_h, channels, out_w, out_h);
      return FALSE;
    }
  if (out_w == in_w && out_h == in_h)
    {
      pil_copy (in, in_stride, in_w * channels, in_h, out);
      return TRUE;
    }
  if (out_w != in_w && !pil_axis_init (&h_axis, in_w, out_w, error))
    goto done;
  if (out_h != in_h && !pil_axis_init (&v_axis, in_h, out_h, error))
    goto done;

  if (out_h == in_h)
    {
      pil_pass_horizontal (in, in_stride, in_h, channels, &h_axis, out,
                           out_w);
      ok = TRUE;
    }
  else if (out_w == in_w)
    ok = pil_pass_vertical (in, in_stride, in_w * channels, &v_axis, out,
                            out_h, error);
  else
    {
      mid = refsr_try_alloc ((gsize) out_w * in_h, channels, error);
      if (mid == NULL)
        goto done;
      pil_pass_horizontal (in, in_stride, in_h, channels, &h_axis, mid,
                           out_w);
      ok = pil_pass_vertical (mid, out_w * channels, out_w * channels,
                              &v_axis, out, out_h, error);
    }

done:
  g_free (mid);
  pil_axis_clear (&h_axis);
  pil_axis_clear (&v_axis);
  return ok;
}
