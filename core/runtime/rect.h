/* rect.h — rectangles of pixels, shared by the resamplers and the tiles.
 * Internal to the engine (runtime layer).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_RECT_H
#define REFSR_RECT_H

#include <glib.h>

/* [x0, x1) × [y0, y1). */
typedef struct
{
  int x0, y0, x1, y1;
} RefsrRect;

static inline int
refsr_rect_width (const RefsrRect *r)
{
  return r->x1 - r->x0;
}

static inline int
refsr_rect_height (const RefsrRect *r)
{
  return r->y1 - r->y0;
}

#endif
