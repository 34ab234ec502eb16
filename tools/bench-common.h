/* bench-common.h — what the benchmarks share (refsr-bench,
 * refsr-spill-bench): synthetic images and the peak memory.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_BENCH_TEXTURE_H
#define REFSR_BENCH_TEXTURE_H

#include <glib.h>

/* w × h RGB8, rowstride 3w, g_free'd by the caller: a few oriented waves
 * plus seeded noise, so the search sees structure without exact
 * repeats. */
guint8 *bench_texture (int w, int h, guint32 seed);

/* The process's peak resident set so far, in KiB (getrusage). */
long bench_peak_rss_kb (void);

#endif
