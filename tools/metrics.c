/* metrics.c — PSNR and SSIM on the luma channel, as TTSR's
 * utils.calc_psnr_and_ssim computes them.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "metrics.h"

#include <math.h>

#define WINDOW 11 /* SSIM window side; the valid region loses WINDOW - 1 */
#define SIGMA 1.5
#define N_PLANES 5 /* y1, y2, y1², y2², y1·y2 */

static const double luma_weights[3] = { 65.738, 129.057, 25.064 };

static const guint8 *
pixel (const RefsrImage *image, int x, int y)
{
  return image->pixels + (gsize) y * image->rowstride + (gsize) x * 3;
}

double
metrics_psnr_y (const RefsrImage *a, const RefsrImage *b)
{
  double sum = 0.0, mse;

  if (a->width != b->width || a->height != b->height || a->width <= 0
      || a->height <= 0)
    return NAN;
  for (int y = 0; y < a->height; y++)
    for (int x = 0; x < a->width; x++)
      {
        const guint8 *pa = pixel (a, x, y), *pb = pixel (b, x, y);
        double d = 0.0;
        /* the official order: difference scaled to [0, 1], then weighted */
        for (int c = 0; c < 3; c++)
          d += ((double) pa[c] - pb[c]) / 255.0 * luma_weights[c] / 256.0;
        sum += d * d;
      }
  mse = sum / ((double) a->width * a->height);
  return mse == 0.0 ? INFINITY : -10.0 * log10 (mse);
}

static void
luma_plane (const RefsrImage *image, double *out)
{
  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      {
        const guint8 *p = pixel (image, x, y);
        out[(gsize) y * image->width + x]
            = (luma_weights[0] * p[0] + luma_weights[1] * p[1]
               + luma_weights[2] * p[2]) / 256.0 + 16.0;
      }
}

/* cv2.getGaussianKernel (11, 1.5): exp (−d² / 2σ²), normalised to sum 1.
 * The official 2-D window is its outer product, so filtering rows and
 * then columns with it gives the same correlation. */
static void
gaussian_window (double *k)
{
  double sum = 0.0;

  for (int i = 0; i < WINDOW; i++)
    {
      double d = i - (WINDOW - 1) / 2;
      k[i] = exp (-d * d / (2.0 * SIGMA * SIGMA));
      sum += k[i];
    }
  for (int i = 0; i < WINDOW; i++)
    k[i] /= sum;
}

/* Horizontal pass over the five planes, valid columns only: each of
 * rows[0..4] is h × (w − 10). */
static void
filter_rows (const double *y1, const double *y2, int w, int h,
             const double *k, double **rows)
{
  int out_w = w - (WINDOW - 1);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < out_w; x++)
      {
        const double *p1 = y1 + (gsize) y * w + x, *p2 = y2 + (gsize) y * w + x;
        double s[N_PLANES] = { 0 };
        for (int i = 0; i < WINDOW; i++)
          {
            s[0] += k[i] * p1[i];
            s[1] += k[i] * p2[i];
            s[2] += k[i] * (p1[i] * p1[i]);
            s[3] += k[i] * (p2[i] * p2[i]);
            s[4] += k[i] * (p1[i] * p2[i]);
          }
        for (int m = 0; m < N_PLANES; m++)
          rows[m][(gsize) y * out_w + x] = s[m];
      }
}

static double
ssim_at (const double *s)
{
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  double mu1_sq = s[0] * s[0], mu2_sq = s[1] * s[1], mu1_mu2 = s[0] * s[1];
  double sigma1_sq = s[2] - mu1_sq, sigma2_sq = s[3] - mu2_sq;
  double sigma12 = s[4] - mu1_mu2;

  return ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2))
         / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2));
}

/* Vertical pass and the mean of the SSIM map over the valid region. */
static double
mean_ssim (double **rows, int out_w, int out_h, const double *k)
{
  double total = 0.0;

  for (int y = 0; y < out_h; y++)
    for (int x = 0; x < out_w; x++)
      {
        double s[N_PLANES] = { 0 };
        for (int j = 0; j < WINDOW; j++)
          for (int m = 0; m < N_PLANES; m++)
            s[m] += k[j] * rows[m][(gsize) (y + j) * out_w + x];
        total += ssim_at (s);
      }
  return total / ((double) out_w * out_h);
}

gboolean
metrics_ssim_y (const RefsrImage *a, const RefsrImage *b, double *ssim,
                GError **error)
{
  int w = a->width, h = a->height, out_w = w - (WINDOW - 1);
  double k[WINDOW], *planes, *rows[N_PLANES];
  gsize n = (gsize) w * h;

  if (w != b->width || h != b->height || w < WINDOW || h < WINDOW)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "SSIM needs two images of the same size, at least %d×%d "
                   "(got %d×%d and %d×%d)", WINDOW, WINDOW, w, h, b->width,
                   b->height);
      return FALSE;
    }
  planes = g_try_malloc_n (2 * n + (gsize) N_PLANES * out_w * h,
                           sizeof (double));
  if (planes == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory computing the SSIM of %d×%d images", w, h);
      return FALSE;
    }
  for (int m = 0; m < N_PLANES; m++)
    rows[m] = planes + 2 * n + (gsize) m * out_w * h;
  luma_plane (a, planes);
  luma_plane (b, planes + n);
  gaussian_window (k);
  filter_rows (planes, planes + n, w, h, k, rows);
  *ssim = mean_ssim (rows, out_w, h - (WINDOW - 1), k);
  g_free (planes);
  return TRUE;
}
