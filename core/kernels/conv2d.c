/* conv2d.c — 2-D convolution over a channel concatenation of inputs.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "conv2d.h"
#include "gemm.h"

/* The input channel ci of the concatenation, or NULL past the end. */
static const float *
concat_channel (const RefsrTensor *const *inputs, int n_inputs, int ci)
{
  for (int t = 0; t < n_inputs; t++)
    {
      if (ci < inputs[t]->c)
        return inputs[t]->data + (gsize) ci * inputs[t]->h * inputs[t]->w;
      ci -= inputs[t]->c;
    }
  return NULL;
}

/* The shapes come from the network's own code, never from a file: a
 * mismatch is a bug in the caller. */
static gboolean
shapes_fit (const RefsrConv *conv, const RefsrTensor *const *inputs,
            int n_inputs, int stride, const RefsrTensor *out)
{
  int cin = 0;

  if (n_inputs < 1 || stride < 1 || conv->k < 1)
    return FALSE;
  for (int t = 0; t < n_inputs; t++)
    {
      if (inputs[t]->h != inputs[0]->h || inputs[t]->w != inputs[0]->w)
        return FALSE;
      cin += inputs[t]->c;
    }
  return cin == conv->cin && out->c == conv->cout
         && out->h == refsr_conv_out_size (inputs[0]->h, conv->k, stride)
         && out->w == refsr_conv_out_size (inputs[0]->w, conv->k, stride);
}

void
refsr_conv2d_ref (const RefsrConv *conv, const RefsrTensor *const *inputs,
                  int n_inputs, int stride, RefsrAct act, RefsrTensor *out)
{
  const int h = inputs[0]->h, w = inputs[0]->w;
  const int k = conv->k, pad = k / 2;

  g_return_if_fail (shapes_fit (conv, inputs, n_inputs, stride, out));
  for (int co = 0; co < out->c; co++)
    for (int oy = 0; oy < out->h; oy++)
      for (int ox = 0; ox < out->w; ox++)
        {
          float sum = 0.0f;

          for (int ci = 0; ci < conv->cin; ci++)
            {
              const float *plane = concat_channel (inputs, n_inputs, ci);
              const float *wk = conv->weight
                                + ((gsize) co * conv->cin + ci) * k * k;

              for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                  {
                    int y = oy * stride - pad + ky;
                    int x = ox * stride - pad + kx;

                    if (y >= 0 && y < h && x >= 0 && x < w)
                      sum += wk[ky * k + kx] * plane[(gsize) y * w + x];
                  }
            }
          if (conv->bias != NULL)
            sum += conv->bias[co];
          if (act == REFSR_ACT_RELU && sum < 0.0f)
            sum = 0.0f;
          out->data[((gsize) co * out->h + oy) * out->w + ox] = sum;
        }
}

/* The optimised path lowers each band of output rows to one matrix
 * product:  out[cout × band pixels] = weight[cout × cin·k·k] · col, where
 * col[cin·k·k × band pixels] is the band's im2col.  Working set per
 * thread: the col buffer (COL_BYTES_TARGET, ~2 MiB, sized to sit in L2
 * beside the 147 KiB weights of a 64→64 3×3 conv) and the band of output
 * rows it writes.  Only the output is proportional to the image.  1×1
 * stride-1 convs need no im2col: the input planes already are col.
 *
 * Bands depend only on the sizes, never on the thread count, so every
 * output value comes from the same matrix product whatever the threads. */
#define COL_BYTES_TARGET (2 << 20)
#define MIN_BANDS 8
#define PIXELS_PER_BAND_1X1 4096

typedef struct
{
  const RefsrConv *conv;
  const RefsrTensor *const *inputs;
  int n_inputs, stride;
  RefsrAct act;
  RefsrTensor *out;
  int band_rows;  /* output rows per band */
  RefsrScratch col; /* one im2col band per thread (not for 1×1 convs) */
} ConvJob;

static gboolean
conv_is_pointwise (const RefsrConv *conv, int stride)
{
  return conv->k == 1 && stride == 1;
}

static int
choose_band_rows (const RefsrConv *conv, int stride, int out_h, int out_w)
{
  int rows;

  if (conv_is_pointwise (conv, stride))
    rows = PIXELS_PER_BAND_1X1 / MAX (out_w, 1);
  else
    rows = COL_BYTES_TARGET
           / ((gsize) conv->cin * conv->k * conv->k * out_w * sizeof (float));
  /* Enough bands for the threads to share, whatever their number. */
  rows = MIN (rows, (out_h + MIN_BANDS - 1) / MIN_BANDS);
  return CLAMP (rows, 1, MAX (out_h, 1));
}

/* One row of col: input row iy (maybe outside the image) sampled at
 * ix = ox·stride − pad + kx for every output column ox. */
static void
im2col_row (const float *plane, int h, int w, int iy, int kx, int pad,
            int stride, int out_w, float *dst)
{
  if (iy < 0 || iy >= h)
    {
      memset (dst, 0, out_w * sizeof (float));
      return;
    }
  const float *src = plane + (gsize) iy * w;

  if (stride == 1)
    {
      /* ix = ox + kx − pad is inside for ox in [first, last). */
      int first = CLAMP (pad - kx, 0, out_w);
      int last = CLAMP (w + pad - kx, first, out_w);

      memset (dst, 0, first * sizeof (float));
      memcpy (dst + first, src + first + kx - pad,
              (last - first) * sizeof (float));
      memset (dst + last, 0, (out_w - last) * sizeof (float));
      return;
    }
  for (int ox = 0; ox < out_w; ox++)
    {
      int ix = ox * stride - pad + kx;

      dst[ox] = ix >= 0 && ix < w ? src[ix] : 0.0f;
    }
}

/* col rows are ordered (ci, ky, kx) like the weights; columns are the
 * band's output pixels, row-major. */
static void
im2col_band (const ConvJob *job, int y0, int rows, float *col)
{
  const int k = job->conv->k, pad = k / 2, out_w = job->out->w;
  const gsize n = (gsize) rows * out_w;
  int ci = 0;

  for (int t = 0; t < job->n_inputs; t++)
    {
      const RefsrTensor *in = job->inputs[t];

      for (int c = 0; c < in->c; c++, ci++)
        {
          const float *plane = in->data + (gsize) c * in->h * in->w;

          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              for (int r = 0; r < rows; r++)
                im2col_row (plane, in->h, in->w,
                            (y0 + r) * job->stride - pad + ky, kx, pad,
                            job->stride, out_w,
                            col + ((gsize) (ci * k + ky) * k + kx) * n
                                + (gsize) r * out_w);
        }
    }
}

/* 1×1 stride 1: one product per input, each adding its slice of the
 * weight columns. */
static void
pointwise_band (const ConvJob *job, gsize p0, gsize n)
{
  const RefsrConv *conv = job->conv;
  int c0 = 0;

  for (int t = 0; t < job->n_inputs; t++)
    {
      const RefsrTensor *in = job->inputs[t];
      gsize plane = (gsize) in->h * in->w;

      refsr_sgemm (conv->cout, (int) n, in->c, conv->weight + c0, conv->cin,
                   in->data + p0, (int) plane, job->out->data + p0,
                   (int) plane, t > 0);
      c0 += in->c;
    }
}

static void
bias_act_band (const ConvJob *job, gsize p0, gsize n)
{
  const RefsrTensor *out = job->out;
  gsize plane = (gsize) out->h * out->w;

  for (int co = 0; co < out->c; co++)
    {
      float *dst = out->data + co * plane + p0;
      float bias = job->conv->bias != NULL ? job->conv->bias[co] : 0.0f;

      if (job->act == REFSR_ACT_RELU)
        for (gsize i = 0; i < n; i++)
          dst[i] = MAX (dst[i] + bias, 0.0f);
      else
        for (gsize i = 0; i < n; i++)
          dst[i] += bias;
    }
}

static void
conv_band (const ConvJob *job, int band, float *col)
{
  const RefsrConv *conv = job->conv;
  RefsrTensor *out = job->out;
  int y0 = band * job->band_rows;
  int rows = MIN (job->band_rows, out->h - y0);
  gsize p0 = (gsize) y0 * out->w, n = (gsize) rows * out->w;

  if (col == NULL)
    pointwise_band (job, p0, n);
  else
    {
      int depth = conv->cin * conv->k * conv->k;

      im2col_band (job, y0, rows, col);
      refsr_sgemm (conv->cout, (int) n, depth, conv->weight, depth, col,
                   (int) n, out->data + p0, out->h * out->w, FALSE);
    }
  bias_act_band (job, p0, n);
}

/* Bands cost the same, but other processes may hold a core: dynamic
 * scheduling lets the free thread take more. */
static int
run_bands (const ConvJob *job, int n_bands, const RefsrExec *exec)
{
  int skipped = 0, done = 0;
  double reported = 0.0;
  double band_macs = (double) job->conv->cout * job->conv->cin
                     * job->conv->k * job->conv->k * job->band_rows
                     * job->out->w;

#pragma omp parallel for num_threads(refsr_exec_threads (exec)) \
  schedule(dynamic, 1) \
  reduction(+:skipped)
  for (int band = 0; band < n_bands; band++)
    {
      /* A loop cannot break in OpenMP: skip what is left instead. */
      if (refsr_exec_cancelled (exec))
        {
          skipped++;
          continue;
        }
      conv_band (job, band,
                 job->col.base != NULL ? refsr_scratch_mine (&job->col)
                                       : NULL);
      int bands_done;
#pragma omp atomic capture
      bands_done = ++done;
      refsr_exec_tick (exec, &reported, bands_done * band_macs);
    }
  return skipped;
}

gboolean
refsr_conv2d (const RefsrConv *conv, const RefsrTensor *const *inputs,
              int n_inputs, int stride, RefsrAct act, RefsrTensor *out,
              const RefsrExec *exec, GError **error)
{
  ConvJob job = { conv, inputs, n_inputs, stride, act, out, 0, { 0 } };

  g_return_val_if_fail (shapes_fit (conv, inputs, n_inputs, stride, out),
                        FALSE);
  if (!refsr_exec_check (exec, error))
    return FALSE;
  if (out->h <= 0 || out->w <= 0)
    return TRUE;
  job.band_rows = choose_band_rows (conv, stride, out->h, out->w);
  if (!conv_is_pointwise (conv, stride))
    if (!refsr_scratch_alloc (&job.col, refsr_exec_threads (exec),
                              (gsize) conv->cin * conv->k * conv->k
                              * job.band_rows * out->w, error))
      return FALSE;

  int n_bands = (out->h + job.band_rows - 1) / job.band_rows;
  int skipped = run_bands (&job, n_bands, exec);

  refsr_scratch_clear (&job.col);
  if (skipped > 0)
    {
      /* The flag may have been lowered again since: still report it. */
      if (refsr_exec_check (exec, error))
        g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
                             "Cancelled");
      return FALSE;
    }
  return TRUE;
}
