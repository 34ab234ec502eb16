/* tiling.c — tiles of the LR image and the context each one carries.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "tiling.h"

void
refsr_tile_margins (RefsrTileMargins *margins)
{
  /* The LTE's lv3 feature at position p (LR pixel p, LR↑ pixels 4p..4p+3)
   * sees 10 LR↑ pixels further on each side: conv1_1 and conv1_2 one
   * each, conv2_1 and conv2_2 one each at half resolution (2 + 2), conv3_1
   * one at quarter resolution (4).  With regions starting on multiples of
   * 4 LR↑ pixels the pooling windows are the image's, so lv3 is exact from
   * ceil(10 / 4) = 3 LR pixels inside a region's cut edge; the 3×3 patch
   * of the search needs one more. */
  margins->search = 4;
  /* The transfer folds 3×3 patches (one LR pixel of context), and the main
   * network's convolutions reach much further, with weights that fade:
   * measured on the fixtures' configurations, 16 LR pixels keep tiled and
   * whole runs within 1/255 (README, "Tiles"). */
  margins->reconstruct = 16;
  /* The same 10 pixels of the LTE, rounded up to the pooling grid. */
  margins->reference = 12;
  margins->align = 4;
  /* A tile reads LR↑ of the whole image; a crop's LR↑ differs from it
   * within Pillow's bicubic support (2 LR pixels) of the cut edge, which
   * the reconstruction's context (the larger one) must not reach. */
  margins->crop = MAX (margins->search, margins->reconstruct) + 2;
}

RefsrRect *
refsr_tiles (int width, int height, int tile, int *n_tiles)
{
  int tw = tile > 0 ? MIN (tile, width) : width;
  int th = tile > 0 ? MIN (tile, height) : height;
  int nx = (width + tw - 1) / tw, ny = (height + th - 1) / th;
  RefsrRect *tiles = g_new (RefsrRect, (gsize) nx * ny);

  for (int ty = 0; ty < ny; ty++)
    for (int tx = 0; tx < nx; tx++)
      {
        RefsrRect *r = &tiles[ty * nx + tx];

        r->x0 = tx * tw;
        r->y0 = ty * th;
        r->x1 = MIN (r->x0 + tw, width);
        r->y1 = MIN (r->y0 + th, height);
      }
  *n_tiles = nx * ny;
  return tiles;
}

RefsrRect
refsr_rect_grow (const RefsrRect *r, int margin, int width, int height)
{
  RefsrRect g = { MAX (r->x0 - margin, 0), MAX (r->y0 - margin, 0),
                  MIN (r->x1 + margin, width), MIN (r->y1 + margin, height) };

  return g;
}
