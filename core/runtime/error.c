/* error.c — the engine's GError domain (declared in refsr.h).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr.h"

G_DEFINE_QUARK (refsr-error-quark, refsr_error)
