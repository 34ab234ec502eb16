/* plan.h — what a run will cost and how it is cut: the tile size (from
 * the caller, or from the memory budget), the reference's strips, the
 * peak memory and the multiply-accumulates.  Internal to the engine; the
 * public refsr_estimate_* calls are built on it.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_PLAN_H
#define REFSR_PLAN_H

#include "refsr.h"

typedef struct
{
  int tile_size;     /* LR pixels per tile side; the whole image is one
                      * tile of max(width, height) when that is at most
                      * REFSR_MAX_TILE_SIZE */
  int strip_rows;    /* reference rows per strip of its features */
  gboolean search_fast; /* the fast search (options->search, or AUTO's
                         * choice from the exact search's cost) */
  gboolean spill_reference; /* the reference's features go to an unlinked
                             * temporary file (spill.h): they would take
                             * more than half of max_memory */
  double peak_bytes; /* the most the run allocates at once (spilled: the
                      * most it needs resident, see plan.c) */
  double macs;       /* multiply-accumulates of every pass, margins too */
} RefsrRunPlan;

/* Plans a run against a pool of members (pool.h: each reference at each
 * scale), of these sizes before cropping: tile_size > 0 is taken as it is; otherwise max_memory > 0
 * picks the largest tile whose run fits (the whole image if it fits), and
 * 0 means the whole image.  spilled < 0: with max_memory > 0, a
 * reference whose features take more than half of it is spilled;
 * otherwise spilled says how a prepared reference's features are kept.
 * Fails with
 * REFSR_ERROR_NO_MEMORY, saying what it would take, when max_memory > 0
 * and not even the smallest tiles fit. */
gboolean refsr_run_plan (const RefsrConfig *config, int lr_width,
                         int lr_height, const RefsrSize *members,
                         int n_members, int n_threads,
                         const RefsrOptions *options, int spilled,
                         RefsrRunPlan *plan, GError **error);

/* Reference rows per strip of the pool members' features (the tallest
 * member's), for a budget (0: none). */
int refsr_plan_strip_rows (const RefsrSize *members, int n_members,
                           guint64 max_memory);

/* Whether the pool's features go to spill files for a budget (0: none,
 * never): when they would take more than half of it. */
gboolean refsr_plan_spill_reference (const RefsrSize *members,
                                     int n_members, guint64 max_memory);

/* Multiply-accumulates of one search of h×w LR positions against a
 * reference of H×W pixels, and of one texture transfer of h×w. */
double refsr_search_macs (int h, int w, int H, int W);
double refsr_transfer_macs (int h, int w);

#endif
