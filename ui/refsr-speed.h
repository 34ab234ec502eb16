/* refsr-speed.h — how fast runs go on this machine, measured by the
 * preview and by every full run, kept in GIMP's profile folder between
 * sessions, for the dialog's time estimates.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_SPEED_H
#define REFSR_SPEED_H

#include <glib.h>

/* FLOP/s of the runs measured on this machine (the newest weigh most);
 * 0 when none has been measured yet. */
double refsr_speed_get (void);

/* Records a run (or a preview) of flops floating-point operations that
 * took seconds; ignored when either is not positive. */
void refsr_speed_record (double flops, double seconds);

#endif
