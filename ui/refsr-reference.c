/* refsr-reference.c — see refsr-reference.h.  (A stub until the plug-in's
 * work lands: it proposes no reference.)
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include "refsr-reference.h"

GimpLayer *
refsr_default_reference (GimpDrawable *target, char **why)
{
  if (why != NULL)
    *why = NULL;
  return NULL;
}
