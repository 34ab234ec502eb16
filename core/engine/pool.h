/* pool.h — a pool of prepared references: each reference at each of its
 * scales is one member with its own size and features; the search and
 * the transfer see them as one index space, member after member.
 * Internal to the engine.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_POOL_H
#define REFSR_POOL_H

#include "reference.h"

typedef struct
{
  int n;                        /* members */
  RefsrReferenceData *members;
  gint64 *bases;                /* n + 1: the first pool index of each
                                 * member's lv3 grid, then the total */
  gboolean spilled;
} RefsrPool;

/* The members' sizes before cropping (each reference at each scale
 * refsr_ref_scales gives it), in pool order, and (owners non-NULL) the
 * reference each comes from; g_free both.  Returns the count, 0 with
 * REFSR_ERROR_INVALID_INPUT (bad scales, or a reference left without
 * any). */
int refsr_pool_member_sizes (const RefsrSize *refs, int n_refs,
                             const RefsrOptions *options, RefsrSize **sizes,
                             int **owners, GError **error);

/* Builds every member in turn (reference.h: strips of strip_rows, spill
 * or not); strip_done hears of every strip of every member. */
gboolean refsr_pool_build (RefsrPool *pool, const RefsrLte *lte,
                           const RefsrImage *refs, int n_refs,
                           const RefsrOptions *options, int strip_rows,
                           gboolean spill, RefsrStripDone strip_done,
                           void *strip_data, const RefsrExec *exec,
                           GError **error);
void refsr_pool_clear (RefsrPool *pool);
void refsr_pool_release_pages (RefsrPool *pool);

/* The member holding pool index i (0 <= i < bases[n]). */
int refsr_pool_member_of (const RefsrPool *pool, gint64 i);

#endif
