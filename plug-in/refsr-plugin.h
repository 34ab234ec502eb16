/* refsr-plugin.h — names shared by the plug-in's procedure and its dialog.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_PLUGIN_H
#define REFSR_PLUGIN_H

#include "refsr.h"

#define REFSR_PLUG_IN_PROC   "plug-in-refsr"
#define REFSR_PLUG_IN_BINARY "refsr"
#define REFSR_DEFAULT_WEIGHTS "refsr-default.safetensors"

/* Throughput per core assumed for the time estimate shown in the dialog:
 * refsr-bench measured 150-170 GFLOP/s on two AVX-512 cores (README);
 * older CPUs reach less, so the estimate stays on the safe side. */
#define REFSR_ASSUMED_FLOPS_PER_CORE 50e9

/* The architecture of the released TTSR model, for estimates made before
 * any weights are loaded. */
#define REFSR_TTSR_CONFIG { 64, { 16, 16, 8, 4 } }

/* The memory a run may use without tiling: half of the machine's RAM, so
 * that GIMP itself and the system keep room. */
guint64 refsr_plug_in_memory_budget (void);

#endif /* REFSR_PLUGIN_H */
