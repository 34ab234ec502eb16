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

/* Output columns [x0, x0 + out_w) of the horizontal pass, for rows
 * input rows; out rows are out_stride bytes apart. */
static void
pil_pass_horizontal (const guint8 *in, int in_stride, int rows, int channels,
                     const PilAxis *axis, int x0, guint8 *out, int out_w,
                     int out_stride)
{
  for (int y = 0; y < rows; y++)
    {
      const guint8 *src = in + (gsize) y * in_stride;
      guint8 *dst = out + (gsize) y * out_stride;

      for (int x = 0; x < out_w; x++)
        {
          const gint32 *k = axis->weights + (gsize) (x0 + x) * axis->max_taps;
          const guint8 *taps = src + (gsize) axis->first[x0 + x] * channels;

          for (int c = 0; c < channels; c++)
            {
              gint32 acc = 1 << (PIL_PRECISION_BITS - 1);
              for (int j = 0; j < axis->count[x0 + x]; j++)
                acc += (gint32) taps[j * channels + c] * k[j];
              dst[x * channels + c] = pil_clip8 (acc);
            }
        }
    }
}

/* Output rows [y0, y0 + out_h) of the vertical pass; in holds input rows
 * from row0 on.  Row-streaming: each output row accumulates whole input
 * rows into one integer row, so memory is read sequentially. */
static gboolean
pil_pass_vertical (const guint8 *in, int in_stride, int row0, int row_len,
                   const PilAxis *axis, int y0, guint8 *out, int out_h,
                   int out_stride, GError **error)
{
  gint32 *acc = refsr_try_alloc (row_len, sizeof (gint32), error);

  if (acc == NULL)
    return FALSE;
  for (int y = 0; y < out_h; y++)
    {
      const gint32 *k = axis->weights + (gsize) (y0 + y) * axis->max_taps;
      guint8 *dst = out + (gsize) y * out_stride;

      for (int i = 0; i < row_len; i++)
        acc[i] = 1 << (PIL_PRECISION_BITS - 1);
      for (int j = 0; j < axis->count[y0 + y]; j++)
        {
          const guint8 *src = in + (gsize) (axis->first[y0 + y] + j - row0)
                                       * in_stride;
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
          guint8 *out, int out_stride)
{
  for (int y = 0; y < rows; y++)
    memcpy (out + (gsize) y * out_stride, in + (gsize) y * in_stride,
            row_len);
}

/* Input rows [*row0, *row1) that output rows [y0, y0 + h) read. */
static void
pil_rows_needed (const PilAxis *axis, int y0, int h, int *row0, int *row1)
{
  *row0 = axis->first[y0];
  *row1 = *row0;
  for (int y = y0; y < y0 + h; y++)
    {
      *row0 = MIN (*row0, axis->first[y]);
      *row1 = MAX (*row1, axis->first[y] + axis->count[y]);
    }
}

static gboolean
pil_check (int in_w, int in_h, int in_stride, int channels, int out_w,
           int out_h, const RefsrRect *window, int out_stride,
           GError **error)
{
  if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || channels < 1
      || (gint64) MAX (in_w, out_w) * channels > G_MAXINT
      || in_stride < in_w * channels || window->x0 < 0 || window->y0 < 0
      || window->x1 > out_w || window->y1 > out_h
      || window->x1 <= window->x0 || window->y1 <= window->y0
      || out_stride < refsr_rect_width (window) * channels)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "Cannot resize a %d×%d image with %d channels to %d×%d "
                   "(window [%d, %d) × [%d, %d))", in_w, in_h, channels,
                   out_w, out_h, window->x0, window->x1, window->y0,
                   window->y1);
      return FALSE;
    }
  return TRUE;
}

/* The window of the resize: through an intermediate of only the input rows
 * the window needs, horizontally reduced to the window's columns; each
 * value is the one the whole resize computes. */
static gboolean
pil_window (const guint8 *in, int in_stride, int channels,
            const PilAxis *h_axis, const PilAxis *v_axis,
            const RefsrRect *win, guint8 *out, int out_stride,
            GError **error)
{
  int width = refsr_rect_width (win), height = refsr_rect_height (win);
  int row_len = width * channels, row0, row1;
  const guint8 *cols = in + (gsize) win->x0 * channels;
  guint8 *mid;
  gboolean ok;

  if (v_axis == NULL)   /* rows keep their size: one pass, into out */
    {
      gsize first_row = (gsize) win->y0 * in_stride;

      if (h_axis == NULL)
        pil_copy (cols + first_row, in_stride, row_len, height, out,
                  out_stride);
      else
        pil_pass_horizontal (in + first_row, in_stride, height, channels,
                             h_axis, win->x0, out, width, out_stride);
      return TRUE;
    }
  pil_rows_needed (v_axis, win->y0, height, &row0, &row1);
  if (h_axis == NULL)   /* columns keep their size: read them in place */
    return pil_pass_vertical (cols + (gsize) row0 * in_stride, in_stride,
                              row0, row_len, v_axis, win->y0, out, height,
                              out_stride, error);
  mid = refsr_try_alloc ((gsize) (row1 - row0) * row_len, 1, error);
  if (mid == NULL)
    return FALSE;
  pil_pass_horizontal (in + (gsize) row0 * in_stride, in_stride, row1 - row0,
                       channels, h_axis, win->x0, mid, width, row_len);
  ok = pil_pass_vertical (mid, row_len, row0, row_len, v_axis, win->y0, out,
                          height, out_stride, error);
  g_free (mid);
  return ok;
}

gboolean
refsr_pil_resize_window (const guint8 *in, int in_w, int in_h, int in_stride,
                         int channels, int out_w, int out_h,
                         const RefsrRect *window, guint8 *out,
                         int out_stride, GError **error)
{
  PilAxis h_axis = { 0 }, v_axis = { 0 };
  gboolean ok = FALSE;

  if (!pil_check (in_w, in_h, in_stride, channels, out_w, out_h, window,
                  out_stride, error))
    return FALSE;
  if ((out_w == in_w || pil_axis_init (&h_axis, in_w, out_w, error))
      && (out_h == in_h || pil_axis_init (&v_axis, in_h, out_h, error)))
    ok = pil_window (in, in_stride, channels,
                     out_w == in_w ? NULL : &h_axis,
                     out_h == in_h ? NULL : &v_axis, window, out,
                     out_stride, error);
  pil_axis_clear (&h_axis);
  pil_axis_clear (&v_axis);
  return ok;
}

gboolean
refsr_pil_resize (const guint8 *in, int in_w, int in_h, int in_stride,
                  int channels, guint8 *out, int out_w, int out_h,
                  GError **error)
{
  RefsrRect whole = { 0, 0, out_w, out_h };

  return refsr_pil_resize_window (in, in_w, in_h, in_stride, channels, out_w,
                                  out_h, &whole, out, out_w * channels,
                                  error);
}
