/* model-io.c — models and results to and from files: loading weights of
 * any format into a bound model, saving a model as canonical safetensors,
 * and the tensor dump of a run.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr.h"

#include <string.h>

#include "model.h"
#include "safetensors.h"
#include "weights-file.h"

static RefsrModel *
model_from_loaded (RefsrStateDict *sd, const char *what, GError **error)
{
  GError *local = NULL;
  RefsrModel *m;

  if (sd == NULL)
    return NULL;
  m = refsr_model_from_state_dict (sd, &local);
  if (m == NULL)
    {
      g_prefix_error (&local, "weights file '%s': ", what);
      g_propagate_error (error, local);
    }
  return m;
}

RefsrModel *
refsr_model_load (const char *path, GError **error)
{
  return model_from_loaded (refsr_weights_load (path, error), path, error);
}

RefsrModel *
refsr_model_load_from_data (const guint8 *data, gsize size, const char *name,
                            GError **error)
{
  const char *what = name != NULL ? name : "(memory)";

  return model_from_loaded (refsr_weights_read (data, size, what, error),
                            what, error);
}

gboolean
refsr_model_save (const RefsrModel *model, const char *path, GError **error)
{
  GPtrArray *keys = refsr_model_expected_keys (&model->config);
  RefsrSafetensorsEntry *entries = g_new0 (RefsrSafetensorsEntry, keys->len);
  gboolean ok;

  for (guint i = 0; i < keys->len; i++)
    {
      const RefsrExpectedKey *key = g_ptr_array_index (keys, i);
      /* binding checked that every expected key is there */
      const RefsrStateTensor *t = refsr_state_dict_get (model->weights,
                                                        key->name);
      entries[i].name = key->name;
      entries[i].dtype = "F32";
      entries[i].ndim = t->ndim;
      memcpy (entries[i].shape, t->shape, sizeof t->shape);
      entries[i].data = t->data;
    }
  ok = refsr_safetensors_write (path, entries, (int) keys->len, NULL, error);
  g_free (entries);
  g_ptr_array_unref (keys);
  return ok;
}

gboolean
refsr_result_save_tensors (const RefsrResult *r, const char *path,
                           GError **error)
{
  gint64 h = r->lr_height, w = r->lr_width;
  RefsrSafetensorsEntry e[] = {
    { "S", "F32", 4, { 1, 1, h, w }, r->S },
    { "idx", "I64", 1, { h * w }, r->idx },
    { "T_lv3", "F32", 4, { 1, 256, h, w }, r->t_lv3 },
    { "T_lv2", "F32", 4, { 1, 128, 2 * h, 2 * w }, r->t_lv2 },
    { "T_lv1", "F32", 4, { 1, 64, 4 * h, 4 * w }, r->t_lv1 },
    { "sr", "F32", 4, { 1, 3, 4 * h, 4 * w }, r->sr },
  };

  if (r->idx == NULL || r->t_lv3 == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "Cannot write '%s': the run did not keep its textures "
                   "(RefsrOptions.keep_textures)", path);
      return FALSE;
    }
  return refsr_safetensors_write (path, e, G_N_ELEMENTS (e), NULL, error);
}
