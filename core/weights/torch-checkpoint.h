/* torch-checkpoint.h — reading PyTorch checkpoints (legacy and zip
 * formats, CPU or CUDA storages) without Python.  Internal to the engine
 * (weights layer).
 *
 * Files are untrusted: the restricted unpickler (pickle.h) executes
 * nothing, and every storage, offset, stride and shape is checked before
 * use; problems are REFSR_ERROR_WEIGHTS naming the file and the byte
 * offset or tensor. */
#ifndef REFSR_TORCH_CHECKPOINT_H
#define REFSR_TORCH_CHECKPOINT_H

#include "state-dict.h"

/* The float tensors of a checkpoint's state dict.  `what` names the source
 * in messages (usually the file name). */
RefsrStateDict *refsr_torch_read (const guint8 *data, gsize size,
                                  const char *what, GError **error);

#endif
