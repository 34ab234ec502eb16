/* refsr-dialog.h — the plug-in's GTK 3 dialog.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_DIALOG_H
#define REFSR_DIALOG_H

#include <libgimp/gimp.h>

#include "refsr.h"

/* The plug-in's memory budget split between the plug-in and the engine.
 * The plug-in holds, outside the engine, 8-bit copies of the layer and of
 * each of the n_refs references (3 bytes a pixel) and GEGL's tile cache, where the new
 * layer's tiles (and for 2x and 3x the 4x buffer) wait on their way to
 * GIMP or to GEGL's swap file; the engine gets the rest (at least 1 byte:
 * a max_memory of 0 would mean no limit).  A budget of 0 is no limit for
 * either. */
guint64 refsr_gegl_cache_share (guint64 budget);
guint64 refsr_engine_share (guint64 budget, int lr_width, int lr_height,
                            const RefsrSize *refs, int n_refs);

/* The most references one run searches, as the refsr command allows. */
#define REFSR_MAX_POOL 16

/* The layers a run enlarging target searches, in the pool's order: the
 * reference (NULL: target itself), then with use_all_layers every other
 * visible layer of target's image that is no layer group, neither target
 * nor the reference.  Returns a NULL-terminated array (g_free it; the
 * layers are libgimp's), its length in n. */
GimpDrawable **refsr_pool_layers (GimpDrawable *target, GimpLayer *reference,
                                  gboolean use_all_layers, int *n);

/* The "ref-scales" argument: "auto" (or empty) for the engine's choice,
 * else scales in (0, 1] separated by commas, such as "1,0.5", each once,
 * at most REFSR_MAX_REF_SCALES.  Sets options' n_ref_scales and
 * ref_scales; FALSE with a translated error saying what the text must be. */
gboolean refsr_parse_ref_scales (const char *text, RefsrOptions *options,
                                 GError **error);

/* Shows the options of plug-in-refsr for enlarging target, writing the
 * choices into config.  options are those the plug-in will run the engine
 * with (tiles handed out as they are done), max_memory being the whole
 * budget and the tile size coming from config: the hint estimates the run
 * with the engine's share of the budget, as the plug-in's own check does.
 * reference_note (may be NULL) says which reference config holds and why
 * (refsr_default_reference's sentence, or that the last one is gone).
 * Returns FALSE when the user cancelled. */
gboolean refsr_dialog_run (GimpProcedure *procedure,
                           GimpProcedureConfig *config, GimpDrawable *target,
                           const RefsrOptions *options,
                           const char *reference_note);

#endif /* REFSR_DIALOG_H */
