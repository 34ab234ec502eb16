/* pool.c — references at several scales, several references, one pool.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "pool.h"

#include <math.h>
#include <string.h>

#include "resample.h"

/* 1, 1/√2, 1/2: a reference shot at up to twice the LR's zoom finds its
 * texture at the LR's scale within a factor of 1.2; the members cost
 * 1 + 1/2 + 1/4 of the reference alone. */
static const double auto_scales[] = { 1.0, 0.70710678118654752, 0.5 };

static int
scaled_side (int side, double scale)
{
  return MAX ((int) floor (side * scale + 0.5), 1);
}

static gboolean
check_scales (const RefsrOptions *options, GError **error)
{
  int n = options->n_ref_scales;

  if (n < 0 || n > REFSR_MAX_REF_SCALES)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "%d reference scales: give between 1 and %d", n,
                   REFSR_MAX_REF_SCALES);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    {
      double s = options->ref_scales[i];

      if (!(s > 0.0 && s <= 1.0))
        {
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                       "Reference scale %g is not in (0, 1]: a reference "
                       "can only be reduced (enlarging it adds no texture)",
                       s);
          return FALSE;
        }
      for (int j = 0; j < i; j++)
        if (options->ref_scales[j] == s)
          {
            g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                         "Reference scale %g is given twice", s);
            return FALSE;
          }
    }
  return TRUE;
}

int
refsr_ref_scales (const RefsrOptions *options, int ref_width, int ref_height,
                  double *scales, GError **error)
{
  static const RefsrOptions defaults = REFSR_OPTIONS_INIT;
  static const double scale_one = 1.0;
  const double *wanted;
  int n_wanted, n = 0, smallest;

  if (options == NULL)
    options = &defaults;
  if (options->n_ref_scales == REFSR_REF_SCALES_AUTO)
    {
      wanted = auto_scales;
      n_wanted = G_N_ELEMENTS (auto_scales);
    }
  else if (options->n_ref_scales == 0)
    {
      wanted = &scale_one;
      n_wanted = 1;
    }
  else if (!check_scales (options, error))
    return 0;
  else
    {
      wanted = options->ref_scales;
      n_wanted = options->n_ref_scales;
    }
  /* auto leaves out what would be too small to hold texture; scales
   * asked for by name only need the engine's smallest reference */
  smallest = options->n_ref_scales == REFSR_REF_SCALES_AUTO
             ? REFSR_MIN_SCALED_REF : 4;
  for (int i = 0; i < n_wanted; i++)
    if (wanted[i] == 1.0
        || MIN (scaled_side (ref_width, wanted[i]),
                scaled_side (ref_height, wanted[i])) >= smallest)
      scales[n++] = wanted[i];
  if (n == 0)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                 "At the reference scales asked for, the %d×%d reference "
                 "would be smaller than %d pixels on a side: use larger "
                 "scales (or 1)", ref_width, ref_height, smallest);
  return n;
}

int
refsr_pool_member_sizes (const RefsrSize *refs, int n_refs,
                         const RefsrOptions *options, RefsrSize **sizes,
                         int **owners, GError **error)
{
  gsize most = (gsize) MAX (n_refs, 1) * REFSR_MAX_REF_SCALES;
  int n = 0;

  *sizes = g_new (RefsrSize, most);
  if (owners != NULL)
    *owners = g_new (int, most);
  for (int r = 0; r < n_refs; r++)
    {
      double scales[REFSR_MAX_REF_SCALES];
      int n_scales = refsr_ref_scales (options, refs[r].width,
                                       refs[r].height, scales, error);

      if (n_scales == 0)
        {
          g_clear_pointer (sizes, g_free);
          if (owners != NULL)
            g_clear_pointer (owners, g_free);
          return 0;
        }
      for (int i = 0; i < n_scales; i++, n++)
        {
          (*sizes)[n] = (RefsrSize) { scaled_side (refs[r].width, scales[i]),
                                      scaled_side (refs[r].height,
                                                   scales[i]) };
          if (owners != NULL)
            (*owners)[n] = r;
        }
    }
  return n;
}

/* One member: the reference as it is, or reduced to size first. */
static gboolean
build_member (RefsrReferenceData *data, const RefsrLte *lte,
              const RefsrImage *ref, const RefsrSize *size, int strip_rows,
              gboolean spill, RefsrStripDone strip_done, void *strip_data,
              const RefsrExec *exec, GError **error)
{
  guint8 *scaled = NULL;
  const guint8 *rgb = ref->pixels;
  int rowstride = ref->rowstride;
  gboolean ok;

  if (size->width != ref->width || size->height != ref->height)
    {
      scaled = refsr_try_alloc ((gsize) size->width * size->height, 3, error);
      if (scaled == NULL
          || !refsr_pil_resize (ref->pixels, ref->width, ref->height,
                                ref->rowstride, 3, scaled, size->width,
                                size->height, error))
        {
          g_free (scaled);
          return FALSE;
        }
      rgb = scaled;
      rowstride = size->width * 3;
    }
  ok = refsr_reference_data_build_full (data, lte, rgb, size->width,
                                        size->height, rowstride, strip_rows,
                                        spill, NULL, strip_done, strip_data,
                                        exec, error);
  g_free (scaled);
  return ok;
}

gboolean
refsr_pool_build (RefsrPool *pool, const RefsrLte *lte,
                  const RefsrImage *refs, int n_refs,
                  const RefsrOptions *options, int strip_rows,
                  gboolean spill, RefsrStripDone strip_done,
                  void *strip_data, const RefsrExec *exec, GError **error)
{
  RefsrSize *ref_sizes = g_new (RefsrSize, MAX (n_refs, 1));
  RefsrSize *sizes = NULL;
  int *owner = NULL;
  gboolean ok = TRUE;

  memset (pool, 0, sizeof *pool);
  for (int r = 0; r < n_refs; r++)
    ref_sizes[r] = (RefsrSize) { refs[r].width, refs[r].height };
  pool->n = refsr_pool_member_sizes (ref_sizes, n_refs, options, &sizes,
                                     &owner, error);
  g_free (ref_sizes);
  if (pool->n == 0)
    return FALSE;
  pool->members = g_new0 (RefsrReferenceData, pool->n);
  pool->bases = g_new0 (gint64, pool->n + 1);
  pool->spilled = spill;
  for (int m = 0; ok && m < pool->n; m++)
    {
      RefsrReferenceData *data = &pool->members[m];

      ok = build_member (data, lte, &refs[owner[m]], &sizes[m], strip_rows,
                         spill, strip_done, strip_data, exec, error);
      if (ok)
        pool->bases[m + 1] = pool->bases[m]
                             + (gint64) (data->height / 4) * (data->width / 4);
    }
  g_free (owner);
  g_free (sizes);
  if (!ok)
    refsr_pool_clear (pool);
  return ok;
}

void
refsr_pool_clear (RefsrPool *pool)
{
  for (int m = 0; m < pool->n; m++)
    refsr_reference_data_clear (&pool->members[m]);
  g_clear_pointer (&pool->members, g_free);
  g_clear_pointer (&pool->bases, g_free);
  pool->n = 0;
  pool->spilled = FALSE;
}

void
refsr_pool_release_pages (RefsrPool *pool)
{
  for (int m = 0; m < pool->n; m++)
    refsr_reference_data_release_pages (&pool->members[m]);
}

int
refsr_pool_member_of (const RefsrPool *pool, gint64 i)
{
  int lo = 0, hi = pool->n - 1;

  while (lo < hi)   /* the last member whose base is <= i */
    {
      int mid = (lo + hi + 1) / 2;

      if (pool->bases[mid] <= i)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}
