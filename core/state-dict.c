/* state-dict.c — named float32 tensors, and reading them from any weights
 * file format (told apart by content).
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

RefsrStateDict *
refsr_state_dict_read (const guint8 *data, gsize size, const char *what,
                       GError **error)
{
  static const guint8 zip_magic[4] = { 'P', 'K', 3, 4 };

  if (size == 0)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "weights file '%s' is empty", what);
      return NULL;
    }
  if ((size >= 4 && memcmp (data, zip_magic, 4) == 0) || data[0] == 0x80)
    return refsr_torch_read (data, size, what, error);
  return refsr_safetensors_read (data, size, what, error);
}

RefsrStateDict *
refsr_state_dict_load (const char *path, GError **error)
{
  GMappedFile *mapped;
  GError *local = NULL;
  RefsrStateDict *sd;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot read weights file '%s': it is a folder", path);
      return NULL;
    }
  mapped = g_mapped_file_new (path, FALSE, &local);
  if (mapped == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot read weights file '%s': %s", path, local->message);
      g_error_free (local);
      return NULL;
    }
  /* An empty file maps to NULL contents; read() handles size 0 first. */
  sd = refsr_state_dict_read (
      (const guint8 *) g_mapped_file_get_contents (mapped),
      g_mapped_file_get_length (mapped), path, error);
  g_mapped_file_unref (mapped);
  return sd;
}
