/* state-dict.c — named float32 tensors.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#include "state-dict.h"

#include <string.h>

#include "refsr.h"

static void
state_tensor_free (gpointer p)
{
  RefsrStateTensor *t = p;

  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

RefsrStateDict *
refsr_state_dict_new (void)
{
  RefsrStateDict *sd = g_new0 (RefsrStateDict, 1);

  sd->tensors = g_ptr_array_new_with_free_func (state_tensor_free);
  sd->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return sd;
}

void
refsr_state_dict_free (RefsrStateDict *sd)
{
  if (sd == NULL)
    return;
  g_hash_table_unref (sd->by_name);
  g_ptr_array_unref (sd->tensors);
  g_free (sd);
}

gboolean
refsr_state_dict_add (RefsrStateDict *sd, const char *name, int ndim,
                      const gint64 *shape, float *data, GError **error)
{
  RefsrStateTensor *t;
  gint64 numel = 1;

  if (g_hash_table_contains (sd->by_name, name))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "tensor %s appears twice", name);
      g_free (data);
      return FALSE;
    }
  if (ndim < 0 || ndim > REFSR_MAX_DIMS)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "tensor %s has %d dimensions (at most %d supported)",
                   name, ndim, REFSR_MAX_DIMS);
      g_free (data);
      return FALSE;
    }
  t = g_new0 (RefsrStateTensor, 1);
  t->name = g_strdup (name);
  t->ndim = ndim;
  for (int d = 0; d < ndim; d++)
    {
      t->shape[d] = shape[d];
      numel *= shape[d]; /* readers have checked the product already */
    }
  t->numel = numel;
  t->data = data;
  g_ptr_array_add (sd->tensors, t);
  g_hash_table_insert (sd->by_name, t->name, t);
  return TRUE;
}

const RefsrStateTensor *
refsr_state_dict_get (const RefsrStateDict *sd, const char *name)
{
  return g_hash_table_lookup (sd->by_name, name);
}
