/* exec.h — what a run hands every op: its thread count and cancel flag,
 * and per-thread scratch memory for OpenMP loops.  Internal to the engine
 * (runtime layer). */
#ifndef REFSR_EXEC_H
#define REFSR_EXEC_H

#include <stdatomic.h>

#include "tensor.h"

/* Told by long ops how far along they are: the multiply-accumulates done
 * since the previous tick. */
typedef void (*RefsrExecTick) (double macs, void *data);

typedef struct
{
  int n_threads;             /* >= 1 */
  const atomic_int *cancel;  /* may be NULL */
  RefsrExecTick tick;        /* may be NULL */
  void *tick_data;
} RefsrExec;

/* The team size for an OpenMP region of this run. */
static inline int
refsr_exec_threads (const RefsrExec *exec)
{
  return exec != NULL ? MAX (exec->n_threads, 1) : 1;
}

static inline gboolean
refsr_exec_cancelled (const RefsrExec *exec)
{
  return exec != NULL && exec->cancel != NULL
         && atomic_load_explicit (exec->cancel, memory_order_relaxed) != 0;
}

/* The calling thread's number inside an OpenMP team (0 outside one, and
 * always 0 in a build without OpenMP). */
int refsr_thread_index (void);

/* Reports that the current call has done `so_far` multiply-accumulates
 * (all its threads together), passing on what is new since the call's
 * previous report (*reported, 0 at the start of the call).  Only the
 * thread that called the engine (thread 0 of a team) reports, so that the
 * caller's progress callback runs on its own thread, as refsr.h
 * promises; so only that thread touches *reported. */
static inline void
refsr_exec_tick (const RefsrExec *exec, double *reported, double so_far)
{
  if (exec != NULL && exec->tick != NULL && refsr_thread_index () == 0
      && so_far > *reported)
    {
      exec->tick (so_far - *reported, exec->tick_data);
      *reported = so_far;
    }
}

/* Sets REFSR_ERROR_CANCELLED and returns FALSE if the run was cancelled. */
gboolean refsr_exec_check (const RefsrExec *exec, GError **error);


/* One private buffer per thread of a team, each starting on its own
 * 64-byte line so that threads do not share cache lines:
 *
 *     RefsrScratch s;
 *     if (!refsr_scratch_alloc (&s, n_threads, floats_per_thread, error))
 *       return FALSE;
 *     #pragma omp parallel for num_threads (n_threads)
 *     for (...) { float *mine = refsr_scratch_mine (&s); ... }
 *     refsr_scratch_clear (&s);
 */
typedef struct
{
  float *base;
  gsize stride;    /* floats from one thread's buffer to the next */
  int n_threads;
} RefsrScratch;

/* error may be NULL for callers with a fallback that needs no scratch. */
gboolean refsr_scratch_alloc (RefsrScratch *scratch, int n_threads,
                              gsize floats_per_thread, GError **error);
float *refsr_scratch_for (const RefsrScratch *scratch, int thread);
static inline float *
refsr_scratch_mine (const RefsrScratch *scratch)
{
  return refsr_scratch_for (scratch, refsr_thread_index ());
}
/* The bytes refsr_scratch_alloc takes for these sizes. */
gsize refsr_scratch_bytes (int n_threads, gsize floats_per_thread);
void refsr_scratch_clear (RefsrScratch *scratch);

#endif
