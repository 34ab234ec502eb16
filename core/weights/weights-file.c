/* weights-file.c — reading a weights file of any supported format.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#include "weights-file.h"

#include <string.h>

#include "safetensors.h"
#include "torch-checkpoint.h"

RefsrStateDict *
refsr_weights_read (const guint8 *data, gsize size, const char *what,
                    GError **error)
{
  static const guint8 zip_magic[4] = { 'P', 'K', 3, 4 };

  if (size == 0)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "weights file '%s' is empty", what);
      return NULL;
    }
  /* safetensors first: its first byte is the low byte of the header
   * length, which may well be 0x80, the pickle PROTO opcode */
  if (size >= 9 && data[8] == '{')
    return refsr_safetensors_read (data, size, what, error);
  if ((size >= 4 && memcmp (data, zip_magic, 4) == 0) || data[0] == 0x80)
    return refsr_torch_read (data, size, what, error);
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
               "weights file '%s' is neither safetensors nor a PyTorch "
               "checkpoint", what);
  return NULL;
}

RefsrStateDict *
refsr_weights_load (const char *path, GError **error)
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
  sd = refsr_weights_read (
      (const guint8 *) g_mapped_file_get_contents (mapped),
      g_mapped_file_get_length (mapped), path, error);
  g_mapped_file_unref (mapped);
  return sd;
}
