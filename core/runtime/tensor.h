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
void refsr_tensor_clear (RefsrTensor *t); /* frees data, zeroes the struct */

/* A checked g_try_malloc of n elements of size bytes. */
gpointer refsr_try_alloc (gsize n, gsize size, GError **error);

#endif
