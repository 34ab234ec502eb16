/* refsr-internal.h — entry points of the engine that are not public:
 * for the tests, the fuzzers and the benchmark, never for the command,
 * the plug-in or the dialog (refsr_internal_dep carries this folder;
 * refsr_dep does not).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_INTERNAL_H
#define REFSR_INTERNAL_H

#include "refsr.h"

/* refsr_run in "oracle" mode: forced_idx (lr height × width indices into
 * the reference's lv3 grid, raster order) replaces the hard-attention
 * indices, so the texture transfer and the main network can be compared
 * with another implementation independently of near-tie flips in the
 * search.  S still comes from refsr's own search.  NULL: plain refsr_run. */
RefsrResult *refsr_run_with_indices (const RefsrModel *model,
                                     const RefsrImage *lr,
                                     const RefsrImage *ref,
                                     const RefsrOptions *options,
                                     const gint64 *forced_idx,
                                     GError **error);

#endif
