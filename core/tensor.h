/* tensor.h — float32 feature maps (batch 1, CHW) and the run context that
 * every op receives.  Internal to the engine. */
#ifndef REFSR_TENSOR_H
#define REFSR_TENSOR_H

#include "refsr.h"

typedef struct
{
  int c, h, w;
  float *data; /* c * h * w floats, channel-major; owned by whoever made it */
} RefsrTensor;

static inline gsize
refsr_tensor_numel (const RefsrTensor *t)
{
  return (gsize) t->c * (gsize) t->h * (gsize) t->w;
}

/* Allocates a tensor (uninitialised, or zeroed).  Sets REFSR_ERROR_NO_MEMORY
 * and returns FALSE when the allocation fails. */
gboolean refsr_tensor_alloc (RefsrTensor *t, int c, int h, int w,
                             GError **error);
gboolean refsr_tensor_alloc0 (RefsrTensor *t, int c, int h, int w,
                              GError **error);
void refsr_tensor_clear (RefsrTensor *t); /* frees data, zeroes the struct */

/* A checked g_try_malloc of n elements of size bytes. */
gpointer refsr_try_alloc (gsize n, gsize size, GError **error);

/* What a run hands every op: the thread count and the cancel flag. */
typedef struct
{
  int n_threads;              /* >= 1 */
  const volatile int *cancel; /* may be NULL */
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
  return exec != NULL && exec->cancel != NULL && *exec->cancel != 0;
}

/* Sets REFSR_ERROR_CANCELLED and returns FALSE if the run was cancelled. */
gboolean refsr_exec_check (const RefsrExec *exec, GError **error);

#endif
