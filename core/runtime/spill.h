/* spill.h — tensors whose data lies in an unlinked temporary file rather
 * than on the heap, for data larger than the memory budget (as GIMP's
 * tile swap).  The file is mapped MAP_SHARED: its pages are page cache,
 * which the kernel writes back and drops under memory pressure instead of
 * failing, and which refsr_tensor_release_pages takes out of the
 * process's resident set between two uses.  Runtime layer.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_SPILL_H
#define REFSR_SPILL_H

#include "tensor.h"

/* Gives each of the n tensors, whose c, h and w are set (all > 0) and
 * whose data is NULL, its data from one temporary file made in dir (NULL:
 * TMPDIR where it is set, else g_get_tmp_dir () or, when that is a tmpfs
 * and /var/tmp is not, /var/tmp: a tmpfs keeps its files in memory).
 * The file has no name from the
 * start (O_TMPFILE) or loses it at once (mkstemp and unlink), so nothing
 * is left behind, even after a crash; its space is reserved up front
 * (posix_fallocate), so a full disk is an error here rather than a
 * SIGBUS later.  Each tensor maps its own page-aligned part; the file is
 * gone, space and all, when the last of them is cleared
 * (refsr_tensor_clear).  The data reads as zeros until written.
 * On failure the tensors are left as they were and REFSR_ERROR_IO says
 * which folder, how many MB and what to do. */
gboolean refsr_spill_alloc (RefsrTensor *const *tensors, gsize n,
                            const char *dir, GError **error);

/* Takes t's pages out of the resident set when its data is spilled: the
 * contents stay in the file (and in the page cache while the kernel
 * keeps them) and are read back on the next access, so this is safe at
 * any time, even while other threads read t.  Does nothing for heap data
 * or an empty tensor. */
void refsr_tensor_release_pages (const RefsrTensor *t);

/* The same for the whole pages within floats [first, first + n) of t's
 * data (the pages it shares with the floats around are kept): for a
 * kernel done with some channels while other threads read others. */
void refsr_tensor_release_range (const RefsrTensor *t, gsize first,
                                 gsize n);

/* The end of a spilled tensor's data, for refsr_tensor_clear. */
void refsr_spill_unmap (float *data, gsize mapped_bytes);

#endif
