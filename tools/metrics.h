/* metrics.h — PSNR and SSIM on the luma channel, as TTSR's
 * utils.calc_psnr_and_ssim computes them (spec §3.4).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both work on 8-bit RGB images of equal size, whole image, no border crop,
 * on Y = (65.738 R + 129.057 G + 25.064 B) / 256 (+ 16 for SSIM).
 *
 * PSNR is computed in float64.  The official code does the same formula in
 * float32 numpy arithmetic; on the metric fixtures the two differ by less
 * than 8e-7 dB.  For identical images the official code fails
 * (math.log10(0) raises ValueError); here the PSNR is +inf, the limit of
 * the formula, so a perfect result still gets a row in a table.
 *
 * SSIM uses the 11×11 Gaussian window of σ = 1.5, evaluated only where the
 * window lies inside the image (the official code filters the whole image
 * and keeps the central (H−10)×(W−10) part, so its border mode never
 * matters), C1 = (0.01·255)², C2 = (0.03·255)², and returns the mean of the
 * SSIM map.  Images need at least 11×11 pixels. */
#ifndef REFSR_METRICS_H
#define REFSR_METRICS_H

#include "refsr.h"

/* PSNR of Y in dB; +inf when a and b are equal, NaN when their sizes
 * differ or are empty (the caller checks sizes first). */
double metrics_psnr_y (const RefsrImage *a, const RefsrImage *b);

/* Mean SSIM of Y.  FALSE with REFSR_ERROR_INVALID_INPUT for images of
 * different sizes or smaller than 11×11, REFSR_ERROR_NO_MEMORY when the
 * scratch planes cannot be allocated. */
gboolean metrics_ssim_y (const RefsrImage *a, const RefsrImage *b,
                         double *ssim, GError **error);

#endif
