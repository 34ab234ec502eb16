/* refsr-dialog.h — the plug-in's GTK 3 dialog.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_DIALOG_H
#define REFSR_DIALOG_H

#include <libgimp/gimp.h>

#include "refsr.h"

/* The plug-in's memory budget split between the plug-in and the engine.
 * The plug-in holds, outside the engine, 8-bit copies of the layer and of
 * the reference (3 bytes a pixel) and GEGL's tile cache, where the new
 * layer's tiles (and for 2x and 3x the 4x buffer) wait on their way to
 * GIMP or to GEGL's swap file; the engine gets the rest (at least 1 byte:
 * a max_memory of 0 would mean no limit).  A budget of 0 is no limit for
 * either. */
guint64 refsr_gegl_cache_share (guint64 budget);
guint64 refsr_engine_share (guint64 budget, int lr_width, int lr_height,
                            int ref_width, int ref_height);

/* Shows the options of plug-in-refsr for enlarging target, writing the
 * choices into config.  options are those the plug-in will run the engine
 * with (tiles handed out as they are done), max_memory being the whole
 * budget and the tile size coming from config: the hint estimates the run
 * with the engine's share of the budget, as the plug-in's own check does.
 * Returns FALSE when the user cancelled. */
gboolean refsr_dialog_run (GimpProcedure *procedure,
                           GimpProcedureConfig *config, GimpDrawable *target,
                           const RefsrOptions *options);

#endif /* REFSR_DIALOG_H */
