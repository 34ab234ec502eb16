/* imageio-private.h — what the files of imageio share and nobody else
 * uses.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_IMAGEIO_PRIVATE_H
#define REFSR_IMAGEIO_PRIVATE_H

#include <glib.h>
#include <sys/stat.h>

/* The file that writing an output to path replaces: path itself, or, for
 * a symbolic link, the file it finally points to (the link is kept);
 * an existing file is named by its canonical path.
 * Refuses an empty name, a name ending in '/', an existing target that is
 * not a regular file or may not be written, and a link to nothing.  When
 * the target exists, *exists is TRUE and existing (may be NULL) receives
 * its stat.  Errors name path as given. */
char *refsr_io_resolve_output (const char *path, struct stat *existing,
                               gboolean *exists, GError **error);

#endif
