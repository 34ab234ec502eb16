/* reference.h — what the search and the texture transfer need from the
 * reference, prepared once per run: the search keys (LTE lv3 of Ref↓↑)
 * and the textures (LTE lv1, lv2, lv3 of Ref).  Internal to the engine.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_REFERENCE_H
#define REFSR_REFERENCE_H

#include "lte.h"

typedef struct
{
  int width, height;       /* the reference cropped to multiples of 4 */
  RefsrTensor key;         /* 256 × height/4 × width/4 */
  RefsrLteFeatures value;  /* lv1 64 × h × w, lv2 128 × h/2 × w/2,
                            * lv3 256 × h/4 × w/4 */
  gboolean spilled;        /* key and values lie in one unlinked
                            * temporary file (spill.h), not on the heap */
} RefsrReferenceData;

/* Called after each strip with the multiply-accumulates it took. */
typedef void (*RefsrStripDone) (double macs, void *data);

/* Builds the features strip by strip, strip_rows reference rows at a time
 * (rounded to the pooling grid; <= 0: the whole reference at once), so
 * that the LTE's full-resolution float maps exist for one strip only.
 * Each strip carries the context of refsr_tile_margins, so the features
 * equal those of the whole reference. */
gboolean refsr_reference_data_build (RefsrReferenceData *data,
                                     const RefsrLte *lte,
                                     const guint8 *rgb, int width, int height,
                                     int rowstride, int strip_rows,
                                     RefsrStripDone strip_done,
                                     void *strip_data, const RefsrExec *exec,
                                     GError **error);
/* The same, with spill (RefsrRunPlan.spill_reference) placing the key and
 * the three value levels in one unlinked temporary file in spill_dir
 * (NULL: TMPDIR, or the system's temporary folder, spill.h) instead of
 * on the heap; their pages are released after each strip, so the
 * resident set holds one strip of them.  The features are bit-identical either way.  A file
 * that cannot be made or sized fails with REFSR_ERROR_IO (spill.h). */
gboolean refsr_reference_data_build_full (RefsrReferenceData *data,
                                          const RefsrLte *lte,
                                          const guint8 *rgb, int width,
                                          int height, int rowstride,
                                          int strip_rows, gboolean spill,
                                          const char *spill_dir,
                                          RefsrStripDone strip_done,
                                          void *strip_data,
                                          const RefsrExec *exec,
                                          GError **error);
void refsr_reference_data_clear (RefsrReferenceData *data);

/* Takes the spilled features' pages out of the resident set (they stay in
 * the file and come back when read); nothing for features on the heap.
 * For the engine between two uses: after each search tile and each
 * transfer. */
void refsr_reference_data_release_pages (RefsrReferenceData *data);

/* Bytes the built data holds for a width × height reference, and the
 * LTE's peak for one strip of strip_rows rows. */
double refsr_reference_data_bytes (int width, int height);
double refsr_reference_strip_bytes (int width, int strip_rows);

#endif
