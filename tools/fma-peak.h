/* fma-peak.h — the measured fp32 multiply-add peak of this CPU, so that the
 * benchmark can say what fraction of it each stage reaches.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_FMA_PEAK_H
#define REFSR_FMA_PEAK_H

/* Runs independent FMA chains on the widest vectors the CPU supports
 * (chosen at run time) on n_threads threads at once, the best of a few
 * repeats; returns fp32 GFLOP/s (an FMA counts 2) and names the vector
 * width in *isa ("avx512f", "avx2+fma", "generic"). */
double fma_peak_gflops (int n_threads, const char **isa);

#endif
