/* transfer.h — hard-attention texture transfer (spec §5.2).
 * Internal to the engine (net layer). */
#ifndef REFSR_TRANSFER_H
#define REFSR_TRANSFER_H

#include "exec.h"

/* Hard-attention texture transfer at one level (spec §5.2): for each LR
 * position p (h×w grid) copy the (3·scale)² patch of value at idx[p]
 * (stride scale, pad scale, zero outside) into out (C × scale·h × scale·w,
 * overwritten), summing overlaps, then divide by 9.  scale is 1, 2 or 4. */
void refsr_transfer (const RefsrTensor *value, int scale, const gint64 *idx,
                     int h, int w, RefsrTensor *out, const RefsrExec *exec);

/* Several value maps as one: pool index i is index i - bases[m] of
 * values[m] for the last m with bases[m] <= i (each value at the same
 * level, all with out's channels). */
typedef struct
{
  const RefsrTensor *const *values;
  const gint64 *bases;   /* n + 1 */
  int n;
} RefsrTransferPool;

/* refsr_transfer from a pool; with one member, bit for bit the same. */
void refsr_transfer_pool (const RefsrTransferPool *pool, int scale,
                          const gint64 *idx, int h, int w, RefsrTensor *out,
                          const RefsrExec *exec);
void refsr_transfer_ref (const RefsrTensor *value, int scale,
                         const gint64 *idx, int h, int w, RefsrTensor *out);

#endif
