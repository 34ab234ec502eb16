/* refsr-reference.h — which layer the dialog proposes as the reference,
 * and why.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_REFERENCE_H
#define REFSR_REFERENCE_H

#include <libgimp/gimp.h>

/* The reference proposed for enlarging target: the largest other layer of
 * target's image (no layer group, not target), else the largest layer of
 * another open image whose name suggests a reference, else NULL (the
 * layer is its own reference).  *why (may be NULL) receives a translated
 * sentence saying which and why; g_free it.  The layer is libgimp's. */
GimpLayer *refsr_default_reference (GimpDrawable *target, char **why);

/* "photo.jpg": the file the image was saved to or opened from, else
 * GIMP's name for it ("[Untitled]"); g_free it. */
char *refsr_image_short_name (GimpImage *image);

#endif
