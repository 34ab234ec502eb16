/* refsr-dialog.h — the plug-in's GTK 3 dialog.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_DIALOG_H
#define REFSR_DIALOG_H

#include <libgimp/gimp.h>

/* Shows the options of plug-in-refsr for enlarging target, writing the
 * choices into config.  memory_budget is the memory a run may use (the
 * hint warns above it).  Returns FALSE when the user cancelled. */
gboolean refsr_dialog_run (GimpProcedure *procedure,
                           GimpProcedureConfig *config, GimpDrawable *target,
                           guint64 memory_budget);

#endif /* REFSR_DIALOG_H */
