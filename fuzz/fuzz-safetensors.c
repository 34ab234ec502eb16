/* fuzz-safetensors.c — libFuzzer target: the safetensors reader and the
 * model binder on arbitrary bytes.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  RefsrStateDict *sd = refsr_safetensors_read (data, size, "fuzz", &error);

  if (sd != NULL)
    refsr_model_free (refsr_model_from_state_dict (sd, &error));
  g_clear_error (&error);
  /* The whole public path, including format detection. */
  refsr_model_free (refsr_model_load_from_data (data, size, "fuzz", &error));
  g_clear_error (&error);
  return 0;
}
