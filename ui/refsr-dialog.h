/* refsr-dialog.h — the plug-in's GTK 3 dialog.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_DIALOG_H
#define REFSR_DIALOG_H

#include <libgimp/gimp.h>

#include "refsr.h"

/* Shows the options of plug-in-refsr for enlarging target, writing the
 * choices into config.  options are those the plug-in will run the engine
 * with (its memory budget, tiles handed out as they are done) but for the
 * tile size, which comes from config: the hint estimates the run with
 * them, as the plug-in's own check does.  Returns FALSE when the user
 * cancelled. */
gboolean refsr_dialog_run (GimpProcedure *procedure,
                           GimpProcedureConfig *config, GimpDrawable *target,
                           const RefsrOptions *options);

#endif /* REFSR_DIALOG_H */
