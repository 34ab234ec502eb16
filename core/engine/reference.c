/* reference.c — the reference's search keys and textures, built in strips.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "reference.h"

#include <string.h>

#include "pixels.h"
#include "resample.h"
#include "spill.h"
#include "tiling.h"

/* Rows [src_row, src_row + n) of every channel of src into rows
 * [dst_row, ...) of dst, which has the same channels and width. */
static void
copy_rows (const RefsrTensor *src, int src_row, RefsrTensor *dst, int dst_row,
           int n)
{
  for (int c = 0; c < src->c; c++)
    memcpy (dst->data + ((gsize) c * dst->h + dst_row) * dst->w,
            src->data + ((gsize) c * src->h + src_row) * src->w,
            (gsize) n * src->w * sizeof (float));
}

typedef struct
{
  const RefsrLte *lte;
  const RefsrExec *exec;
  int width, height, strip;
  int margin;
} StripPlan;

/* The LTE of rows [y0 - margin, y1 + margin) of one image (clipped), with
 * the wanted levels' rows of [y0, y1) copied into out. */
static gboolean
strip_features (const StripPlan *plan, const guint8 *rgb, int rowstride,
                int y0, int y1, unsigned levels, RefsrLteFeatures *out,
                GError **error)
{
  int g0 = MAX (y0 - plan->margin, 0);
  int g1 = MIN (y1 + plan->margin, plan->height);
  RefsrTensor x = { 0 };
  RefsrLteFeatures f = { 0 };
  gboolean ok;

  ok = refsr_pixels_to_tensor (rgb + (gsize) g0 * rowstride, plan->width,
                               g1 - g0, rowstride, &x, error)
       && refsr_lte_forward (plan->lte, &x, levels, &f, plan->exec, error);
  refsr_tensor_clear (&x);
  if (ok && (levels & 1u))
    copy_rows (&f.lv1, y0 - g0, &out->lv1, y0, y1 - y0);
  if (ok && (levels & 2u))
    copy_rows (&f.lv2, (y0 - g0) / 2, &out->lv2, y0 / 2, (y1 - y0) / 2);
  if (ok && (levels & 4u))
    copy_rows (&f.lv3, (y0 - g0) / 4, &out->lv3, y0 / 4, (y1 - y0) / 4);
  refsr_lte_features_clear (&f);
  return ok;
}

static gboolean
alloc_features (RefsrReferenceData *data, const char *spill_dir,
                GError **error)
{
  int h = data->height, w = data->width;
  RefsrTensor *all[] = { &data->key, &data->value.lv1, &data->value.lv2,
                         &data->value.lv3 };

  if (data->spilled)
    {
      data->key = (RefsrTensor) { 256, h / 4, w / 4, NULL, 0 };
      data->value.lv1 = (RefsrTensor) { 64, h, w, NULL, 0 };
      data->value.lv2 = (RefsrTensor) { 128, h / 2, w / 2, NULL, 0 };
      data->value.lv3 = (RefsrTensor) { 256, h / 4, w / 4, NULL, 0 };
      return refsr_spill_alloc (all, G_N_ELEMENTS (all), spill_dir, error);
    }
  return refsr_tensor_alloc (&data->key, 256, h / 4, w / 4, error)
         && refsr_tensor_alloc (&data->value.lv1, 64, h, w, error)
         && refsr_tensor_alloc (&data->value.lv2, 128, h / 2, w / 2, error)
         && refsr_tensor_alloc (&data->value.lv3, 256, h / 4, w / 4, error);
}

/* Ref↓↑: two separate uint8 resamplings of the cropped reference, as the
 * official code makes it (spec §3.3). */
static guint8 *
down_up (const guint8 *rgb, int w, int h, int rowstride, GError **error)
{
  guint8 *small = refsr_try_alloc ((gsize) (w / 4) * (h / 4), 3, error);
  guint8 *up = small != NULL ? refsr_try_alloc ((gsize) w * h, 3, error)
                             : NULL;
  gboolean ok = up != NULL
                && refsr_pil_resize (rgb, w, h, rowstride, 3, small, w / 4,
                                     h / 4, error)
                && refsr_pil_resize (small, w / 4, h / 4, (w / 4) * 3, 3, up,
                                     w, h, error);

  g_free (small);
  if (!ok)
    g_clear_pointer (&up, g_free);
  return up;
}

gboolean
refsr_reference_data_build (RefsrReferenceData *data, const RefsrLte *lte,
                            const guint8 *rgb, int width, int height,
                            int rowstride, int strip_rows,
                            RefsrStripDone strip_done, void *strip_data,
                            const RefsrExec *exec, GError **error)
{
  return refsr_reference_data_build_full (data, lte, rgb, width, height,
                                          rowstride, strip_rows, FALSE, NULL,
                                          strip_done, strip_data, exec,
                                          error);
}

gboolean
refsr_reference_data_build_full (RefsrReferenceData *data,
                                 const RefsrLte *lte, const guint8 *rgb,
                                 int width, int height, int rowstride,
                                 int strip_rows, gboolean spill,
                                 const char *spill_dir,
                                 RefsrStripDone strip_done, void *strip_data,
                                 const RefsrExec *exec, GError **error)
{
  RefsrTileMargins margins;
  StripPlan plan = { lte, exec, width / 4 * 4, height / 4 * 4, 0, 0 };
  RefsrLteFeatures key = { 0 };
  guint8 *blurred;
  gboolean ok = TRUE;

  refsr_tile_margins (&margins);
  memset (data, 0, sizeof *data);
  data->width = plan.width;
  data->height = plan.height;
  data->spilled = spill;
  plan.margin = margins.reference;
  plan.strip = strip_rows > 0 ? MAX (strip_rows / margins.align, 1)
                                * margins.align
                              : plan.height;
  if (!alloc_features (data, spill_dir, error)
      || (blurred = down_up (rgb, plan.width, plan.height, rowstride,
                             error)) == NULL)
    {
      refsr_reference_data_clear (data);
      return FALSE;
    }
  key.lv3 = data->key;
  for (int y0 = 0; ok && y0 < plan.height; y0 += plan.strip)
    {
      int y1 = MIN (y0 + plan.strip, plan.height);

      ok = strip_features (&plan, blurred, plan.width * 3, y0, y1, 4u, &key,
                           error)
           && strip_features (&plan, rgb, rowstride, y0, y1, 7u,
                              &data->value, error)
           && refsr_exec_check (exec, error);
      refsr_reference_data_release_pages (data);
      if (ok && strip_done != NULL)
        strip_done (2.0 * refsr_lte_macs (y1 - y0, plan.width), strip_data);
    }
  g_free (blurred);
  if (!ok)
    refsr_reference_data_clear (data);
  return ok;
}

void
refsr_reference_data_clear (RefsrReferenceData *data)
{
  refsr_tensor_clear (&data->key);
  refsr_lte_features_clear (&data->value);
  data->spilled = FALSE;
}

void
refsr_reference_data_release_pages (RefsrReferenceData *data)
{
  refsr_tensor_release_pages (&data->key);
  refsr_tensor_release_pages (&data->value.lv1);
  refsr_tensor_release_pages (&data->value.lv2);
  refsr_tensor_release_pages (&data->value.lv3);
}

double
refsr_reference_data_bytes (int width, int height)
{
  /* key 16, lv1 64, lv2 32, lv3 16 floats per reference pixel, and the
   * 3 bytes of Ref↓↑ while it is built */
  return (double) (width / 4 * 4) * (height / 4 * 4) * (128.0 * 4 + 3);
}

double
refsr_reference_strip_bytes (int width, int strip_rows)
{
  RefsrTileMargins margins;

  refsr_tile_margins (&margins);
  /* the LTE's two 64-channel full-resolution maps, its input and output
   * copies: about 165 floats per pixel of the strip and its context */
  return 165.0 * 4 * width * (strip_rows + 2.0 * margins.reference);
}
