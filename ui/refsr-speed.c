/* refsr-speed.c — see refsr-speed.h.  (A stub until the dialog's work
 * lands: nothing is measured yet.)
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include "refsr-speed.h"

double
refsr_speed_get (void)
{
  return 0.0;
}

void
refsr_speed_record (double flops, double seconds)
{
}
