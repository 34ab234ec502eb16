/* search-fast.h — placeholder until the fast search lands (branch
 * fast-search): the exact search under the fast search's API. */
#ifndef REFSR_SEARCH_FAST_H
#define REFSR_SEARCH_FAST_H

#include "exec.h"

gboolean refsr_search_fast (const RefsrTensor *query, const RefsrTensor *key,
                            gint64 *idx, float *S, const RefsrExec *exec,
                            GError **error);
gsize refsr_search_fast_scratch_bytes (int c, int h, int w, int key_h,
                                       int key_w, int n_threads);
double refsr_search_fast_macs (int h, int w, int key_h, int key_w);

#endif
