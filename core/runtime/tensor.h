/* tensor.h — float32 feature maps (batch 1, CHW) and checked allocation.
 * Internal to the engine (runtime layer: depends on nothing but GLib and
 * the public header's error domain). */
#ifndef REFSR_TENSOR_H
#define REFSR_TENSOR_H

#include "refsr.h"

typedef struct
{
  int c, h, w;
  float *data; /* c * h * w floats, channel-major; owned by whoever made it */
  gsize mapped; /* 0: data is from the heap (refsr_tensor_alloc);
                 * otherwise the bytes of its mapping of a spill file
                 * (spill.h).  refsr_tensor_clear frees either way, so
                 * never take data out of a mapped tensor to g_free it. */
} RefsrTensor;

static inline gsize
refsr_tensor_numel (const RefsrTensor *t)
{
  return (gsize) t->c * (gsize) t->h * (gsize) t->w;
}

/* Allocates an uninitialised tensor.  Sets REFSR_ERROR_NO_MEMORY and
 * returns FALSE when the allocation fails. */
gboolean refsr_tensor_alloc (RefsrTensor *t, int c, int h, int w,
                             GError **error);
/* Frees data (g_free, or munmap for a spilled tensor) and zeroes the
 * struct; the one way any tensor's data is freed. */
void refsr_tensor_clear (RefsrTensor *t);

/* A checked g_try_malloc of n elements of size bytes. */
gpointer refsr_try_alloc (gsize n, gsize size, GError **error);

#endif
