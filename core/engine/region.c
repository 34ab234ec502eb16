/* region.c — one region of the output alone, for a preview: the region
 * and the context a tile would carry, cut from the LR image and run as a
 * whole image against a prepared reference; the region's part is kept.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-internal.h"

#include <string.h>

#include "tiling.h"

gboolean
refsr_region_context (int lr_width, int lr_height, const RefsrRegion *region,
                      RefsrRegion *context, GError **error)
{
  RefsrTileMargins margins;
  RefsrRect r, grown;

  if (region->width < 1 || region->height < 1 || region->x < 0
      || region->y < 0 || region->x > lr_width - region->width
      || region->y > lr_height - region->height)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "The region %d×%d at %d, %d is not inside the %d×%d "
                   "low-resolution image", region->width, region->height,
                   region->x, region->y, lr_width, lr_height);
      return FALSE;
    }
  refsr_tile_margins (&margins);
  r = (RefsrRect) { region->x, region->y, region->x + region->width,
                    region->y + region->height };
  grown = refsr_rect_grow (&r, margins.crop, lr_width, lr_height);
  *context = (RefsrRegion) { grown.x0, grown.y0, refsr_rect_width (&grown),
                             refsr_rect_height (&grown) };
  return TRUE;
}

/* rows × cols of src (src_width wide, planes planes of src_plane elements
 * each) starting at x, y, into dst packed. */
static void
copy_window (const void *src, int src_width, gsize src_plane, int planes,
             int x, int y, int cols, int rows, gsize elem, void *dst)
{
  guint8 *out = dst;

  for (int p = 0; p < planes; p++)
    for (int row = 0; row < rows; row++)
      {
        const guint8 *in = (const guint8 *) src
                           + (p * src_plane + (gsize) (y + row) * src_width
                              + x) * elem;

        memcpy (out, in, (gsize) cols * elem);
        out += (gsize) cols * elem;
      }
}

/* The region's part of the context's result. */
static RefsrResult *
cut_region (const RefsrResult *whole, const RefsrRegion *context,
            const RefsrRegion *region, GError **error)
{
  int dx = region->x - context->x, dy = region->y - context->y;
  gsize out_plane = (gsize) 16 * region->width * region->height;
  gsize whole_plane = (gsize) whole->width * whole->height;
  RefsrResult *cut = g_new0 (RefsrResult, 1);

  cut->width = 4 * region->width;
  cut->height = 4 * region->height;
  cut->lr_width = region->width;
  cut->lr_height = region->height;
  cut->ref_lv3_width = whole->ref_lv3_width;
  cut->ref_lv3_height = whole->ref_lv3_height;
  cut->pixels = g_try_malloc (out_plane * 3);
  cut->sr = g_try_malloc (out_plane * 3 * sizeof (float));
  cut->S = g_try_malloc ((gsize) region->width * region->height
                         * sizeof (float));
  if (cut->pixels == NULL || cut->sr == NULL || cut->S == NULL)
    {
      refsr_result_free (cut);
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                           "Out of memory for the region's result");
      return NULL;
    }
  copy_window (whole->pixels, whole->width * 3, 0, 1, 4 * dx * 3, 4 * dy,
               cut->width * 3, cut->height, 1, cut->pixels);
  copy_window (whole->sr, whole->width, whole_plane, 3, 4 * dx, 4 * dy,
               cut->width, cut->height, sizeof (float), cut->sr);
  copy_window (whole->S, whole->lr_width, 0, 1, dx, dy, region->width,
               region->height, sizeof (float), cut->S);
  return cut;
}

RefsrResult *
refsr_run_region (const RefsrModel *model, const RefsrImage *lr,
                  const RefsrRegion *region, RefsrReference *reference,
                  const RefsrOptions *options, GError **error)
{
  RefsrOptions own = REFSR_OPTIONS_INIT;
  RefsrRegion context;
  RefsrImage crop;
  RefsrResult *whole, *cut;

  g_return_val_if_fail (model != NULL && lr != NULL && region != NULL
                        && reference != NULL, NULL);
  if (options != NULL)
    own = *options;
  if (own.tile_done != NULL)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "A region's run returns its pixels: tile_done "
                           "must be NULL");
      return NULL;
    }
  if (lr->pixels == NULL || lr->width < 1 || lr->height < 1
      || lr->rowstride < lr->width * 3)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "The low-resolution image is empty or its rows "
                           "overlap");
      return NULL;
    }
  if (!refsr_region_context (lr->width, lr->height, region, &context, error))
    return NULL;
  own.keep_textures = FALSE;
  crop = (RefsrImage) { lr->pixels + (gsize) context.y * lr->rowstride
                            + (gsize) context.x * 3,
                        context.width, context.height, lr->rowstride };
  whole = refsr_run_with_reference (model, &crop, reference, &own, error);
  if (whole == NULL)
    return NULL;
  cut = cut_region (whole, &context, region, error);
  refsr_result_free (whole);
  return cut;
}
