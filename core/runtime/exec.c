/* exec.c — cancel checks and per-thread scratch.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "exec.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define FLOATS_PER_LINE 16 /* 64 bytes */

gboolean
refsr_exec_check (const RefsrExec *exec, GError **error)
{
  if (!refsr_exec_cancelled (exec))
    return TRUE;
  g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
                       "Cancelled");
  return FALSE;
}

int
refsr_thread_index (void)
{
#ifdef _OPENMP
  return omp_get_thread_num ();
#else
  return 0;
#endif
}

static gsize
scratch_stride (gsize floats_per_thread)
{
  return (floats_per_thread + FLOATS_PER_LINE - 1) & ~(gsize) (FLOATS_PER_LINE - 1);
}

gsize
refsr_scratch_bytes (int n_threads, gsize floats_per_thread)
{
  return scratch_stride (floats_per_thread) * (gsize) MAX (n_threads, 1)
         * sizeof (float);
}

gboolean
refsr_scratch_alloc (RefsrScratch *scratch, int n_threads, gsize floats_per_thread,
               GError **error)
{
  scratch->n_threads = MAX (n_threads, 1);
  scratch->stride = scratch_stride (floats_per_thread);
  if (scratch->stride > G_MAXSIZE / sizeof (float) / (gsize) scratch->n_threads)
    scratch->base = NULL;
  else
    scratch->base = g_try_malloc (MAX (refsr_scratch_bytes (n_threads,
                                                           floats_per_thread),
                                       1));
  if (scratch->base == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory: could not allocate %.1f MB of scratch "
                   "for %d threads",
                   (double) scratch->stride * sizeof (float)
                   * scratch->n_threads / 1e6, scratch->n_threads);
      return FALSE;
    }
  return TRUE;
}

float *
refsr_scratch_for (const RefsrScratch *scratch, int thread)
{
  g_return_val_if_fail (thread >= 0 && thread < scratch->n_threads, NULL);
  return scratch->base + (gsize) thread * scratch->stride;
}

void
refsr_scratch_clear (RefsrScratch *scratch)
{
  g_free (scratch->base);
  scratch->base = NULL;
  scratch->stride = 0;
  scratch->n_threads = 0;
}
