/* weights-file.h — a weights file of any supported format, told apart by
 * content.  Internal to the engine (weights layer, on top of the readers).
 */
#ifndef REFSR_WEIGHTS_FILE_H
#define REFSR_WEIGHTS_FILE_H

#include "state-dict.h"

/* Sniffs the format (safetensors or PyTorch checkpoint) and calls its
 * reader.  `what` names the source in messages. */
RefsrStateDict *refsr_weights_read (const guint8 *data, gsize size,
                                    const char *what, GError **error);
/* The same for a file, mapped rather than read. */
RefsrStateDict *refsr_weights_load (const char *path, GError **error);

#endif
