/* fuzz-torch-checkpoint.c — libFuzzer target: the PyTorch checkpoint
 * reader (restricted unpickler, zip directory, tensor views) and the model
 * binder on arbitrary bytes.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "torch-checkpoint.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  RefsrStateDict *sd = refsr_torch_read (data, size, "fuzz", &error);

  if (sd != NULL)
    refsr_model_free (refsr_model_from_state_dict (sd, &error));
  g_clear_error (&error);
  return 0;
}
