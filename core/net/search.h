/* search.h — relevance embedding: hard and soft attention (spec §5.2).
 * Internal to the engine. */
#ifndef REFSR_SEARCH_H
#define REFSR_SEARCH_H

#include "exec.h"

/* The searches' hot loops may use the widest vectors the CPU has: a
 * function marked so is compiled for AVX-512, AVX2 and the baseline and
 * chosen at run time.  Without FMA contraction in those loops every
 * variant gives the same bits. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define WIDEST_VECTORS \
  __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#endif
#endif
#ifndef WIDEST_VECTORS
#define WIDEST_VECTORS
#endif

/* For every LR position p of query (C×h×w, LTE lv3 of LR↑), finds the
 * reference position q of key (C×Hr×Wr, lv3 of Ref↓↑) whose 3×3 feature
 * patch (zero padded) has the highest cosine similarity with p's patch.
 * Ties go to the smallest q.  idx gets h·w raster indices into Hr×Wr, S the
 * similarity (h·w floats).
 *
 * Never forms the P×Q relevance matrix: memory grows with P + Q.  The
 * result does not depend on exec->n_threads. */
gboolean refsr_search (const RefsrTensor *query, const RefsrTensor *key,
                       gint64 *idx, float *S, const RefsrExec *exec,
                       GError **error);

/* Bytes of scratch memory refsr_search allocates for these sizes (query
 * c×h×w, key c×key_h×key_w) and thread count; the formula is in search.c.
 * It grows with P + Q, never with P·Q. */
gsize refsr_search_scratch_bytes (int c, int h, int w, int key_h, int key_w,
                                  int n_threads);

/* The shapes any search takes (positive, equal channel counts, a key
 * indexable with gint32); FALSE with REFSR_ERROR_INVALID_INPUT saying
 * why. */
gboolean refsr_search_check_shapes (const RefsrTensor *query,
                                    const RefsrTensor *key, GError **error);

/* Plain reference: normalise each 3×3·C patch, dot products, arg-max. */
void refsr_search_ref (const RefsrTensor *query, const RefsrTensor *key,
                       gint64 *idx, float *S);

#endif
