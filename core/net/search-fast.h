/* search-fast.h — approximate relevance search, near-linear in the sizes
 * (spec §5.2 steps 1-2 by a coarse exact search and PatchMatch-style
 * refinement).  Internal to the engine.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef REFSR_SEARCH_FAST_H
#define REFSR_SEARCH_FAST_H

#include "exec.h"

/* The quality knobs.  Zero in a field means its default. */
typedef struct
{
  int pool_factor;     /* 0: chosen from the sizes; 1: the exact search */
  int iterations;      /* refinement sweeps over every position */
  int random_samples;  /* random candidates per position and sweep */
} RefsrSearchFastParams;

/* The defaults (see search-fast.c for why these values). */
#define REFSR_SEARCH_FAST_ITERATIONS      8
#define REFSR_SEARCH_FAST_RANDOM_SAMPLES  6

/* Same contract as refsr_search (query C×h×w = LTE lv3 of LR↑, key
 * C×Hr×Wr = lv3 of Ref↓↑, idx h·w raster indices into Hr×Wr, S the cosine
 * of the picked patch, ties to the smallest q) but near-linear in h·w +
 * Hr·Wr: the picked patch need not be the best one, yet S is always its
 * exact cosine.  Deterministic, and the same for any exec->n_threads.
 * FALSE with REFSR_ERROR_CANCELLED if the run was cancelled. */
gboolean refsr_search_fast (const RefsrTensor *query, const RefsrTensor *key,
                            gint64 *idx, float *S, const RefsrExec *exec,
                            GError **error);

/* The same with explicit knobs (params NULL: the defaults). */
gboolean refsr_search_fast_full (const RefsrTensor *query,
                                 const RefsrTensor *key,
                                 const RefsrSearchFastParams *params,
                                 gint64 *idx, float *S, const RefsrExec *exec,
                                 GError **error);

/* The pool factor the defaults choose for these sizes (1: exact search). */
int refsr_search_fast_pool_factor (int h, int w, int key_h, int key_w);

/* Bytes of memory refsr_search_fast allocates at its peak for a query
 * c×h×w and a key c×key_h×key_w (feature positions, not pixels) with
 * n_threads threads.  Grows with h·w + key_h·key_w. */
gsize refsr_search_fast_scratch_bytes (int c, int h, int w, int key_h,
                                       int key_w, int n_threads);

/* Multiply-accumulates refsr_search_fast reports through refsr_exec_tick
 * for 256-channel features (LTE lv3) of these sizes, the same unit as
 * refsr_search_macs; for progress and planning. */
double refsr_search_fast_macs (int h, int w, int key_h, int key_w);

#endif
