/* tiling.h — how the LR image is cut into tiles, and how much context
 * each tile carries: decided here and nowhere else.  Internal to the
 * engine (engine layer).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_TILING_H
#define REFSR_TILING_H

#include "rect.h"

/* Context, in pixels of the image a pass reads, around what it must get
 * right (refsr_tile_margins explains each number). */
typedef struct
{
  int search;     /* LR pixels around a tile for its hard-attention
                   * indices and S: exact, so the indices equal the
                   * untiled run's */
  int reconstruct;/* LR pixels around a tile for the texture transfer and
                   * the main network: not exact (their receptive field is
                   * the whole image), but close enough to be invisible */
  int reference;  /* reference pixels above and below a strip of the
                   * reference's texture features: exact */
  int align;      /* strips and regions start on multiples of this, so
                   * the LTE's pooling grid stays the image's */
  int crop;       /* LR pixels around a region run on a crop of the LR
                   * image (refsr_run_region): what a tile needs, plus
                   * what the crop's own LR↑ gets wrong near its edge */
} RefsrTileMargins;

void refsr_tile_margins (RefsrTileMargins *margins);

/* The tiles of a width × height image, tile × tile (the last row and
 * column smaller), in raster order; tile <= 0 or larger than the image:
 * one tile.  g_free the array. */
RefsrRect *refsr_tiles (int width, int height, int tile, int *n_tiles);

/* r grown by margin on every side, clipped to the image. */
RefsrRect refsr_rect_grow (const RefsrRect *r, int margin, int width,
                           int height);

#endif
