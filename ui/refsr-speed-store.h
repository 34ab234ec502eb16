/* refsr-speed-store.h — the measured speeds as refsr-speed keeps them: a
 * few of the newest rates per machine in a GKeyFile.  Plain GLib, so it
 * can be tested without GIMP.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_SPEED_STORE_H
#define REFSR_SPEED_STORE_H

#include <glib.h>

/* How many of the newest rates each machine keeps. */
#define REFSR_SPEED_KEEP 8

/* Appends rate (FLOP/s) to machine's rates, dropping the oldest beyond
 * REFSR_SPEED_KEEP; a rate that is not positive and finite is ignored. */
void refsr_speed_store_add (GKeyFile *file, const char *machine, double rate);

/* machine's rate, the newest weighing most (the n-th of n counts n
 * times the first), and the slowest and the fastest of those kept (either
 * may be NULL).  FALSE, all 0, when none is kept. */
gboolean refsr_speed_store_get (GKeyFile *file, const char *machine,
                                double *rate, double *slowest,
                                double *fastest);

/* refsr_speed_get with the spread: the slowest and the fastest of the
 * rates kept for this machine; FALSE, all 0, when none is. */
gboolean refsr_speed_get_range (double *rate, double *slowest,
                                double *fastest);

#endif
