/* tensor.c — allocation of feature maps.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "tensor.h"

#include <string.h>

#include "spill.h"

gpointer
refsr_try_alloc (gsize n, gsize size, GError **error)
{
  gpointer p;

  if (size != 0 && n > G_MAXSIZE / size)
    p = NULL;
  else
    p = g_try_malloc (MAX (n * size, 1));
  if (p == NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                 "Out of memory: could not allocate %.1f MB",
                 (double) n * (double) size / 1e6);
  return p;
}

gboolean
refsr_tensor_alloc (RefsrTensor *t, int c, int h, int w, GError **error)
{
  memset (t, 0, sizeof *t);
  if (c <= 0 || h <= 0 || w <= 0)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "Invalid feature map size %d×%d×%d", c, h, w);
      return FALSE;
    }
  t->data = refsr_try_alloc ((gsize) c * (gsize) h * (gsize) w,
                             sizeof (float), error);
  if (t->data == NULL)
    return FALSE;
  t->c = c;
  t->h = h;
  t->w = w;
  return TRUE;
}

void
refsr_tensor_clear (RefsrTensor *t)
{
  if (t->mapped > 0)
    refsr_spill_unmap (t->data, t->mapped);
  else
    g_free (t->data);
  memset (t, 0, sizeof *t);
}
