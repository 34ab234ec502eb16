/* search-fast.c — placeholder (see search-fast.h).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "search.h"
#include "search-fast.h"

gboolean
refsr_search_fast (const RefsrTensor *query, const RefsrTensor *key,
                   gint64 *idx, float *S, const RefsrExec *exec,
                   GError **error)
{
  return refsr_search (query, key, idx, S, exec, error);
}

gsize
refsr_search_fast_scratch_bytes (int c, int h, int w, int key_h, int key_w,
                                 int n_threads)
{
  return refsr_search_scratch_bytes (c, h, w, key_h, key_w, n_threads);
}

double
refsr_search_fast_macs (int h, int w, int key_h, int key_w)
{
  return (256.0 + 9.0) * h * w * (double) key_h * key_w;
}
