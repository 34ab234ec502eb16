/* safetensors.h — reading and writing safetensors files.
 * Internal to the engine (weights layer).
 *
 * Files are untrusted: every length, offset and shape is checked before
 * use, and problems are REFSR_ERROR_WEIGHTS naming the file and the entry. */
#ifndef REFSR_SAFETENSORS_H
#define REFSR_SAFETENSORS_H

#include "state-dict.h"

/* The index of a safetensors file: every entry's dtype, shape and bytes
 * (pointing into the caller's buffer), validated: sizes match shapes,
 * ranges lie inside the data block, do not overlap and leave no gaps. */
typedef struct
{
  char *name;
  char dtype[8];       /* "F32", "F16", "BF16", "I64", "U8", ... */
  int ndim;
  gint64 shape[REFSR_MAX_DIMS];
  gint64 numel;
  const guint8 *bytes; /* inside the buffer given to the parser */
  gsize nbytes;
} RefsrSafetensorsItem;

typedef struct
{
  GPtrArray *items;    /* RefsrSafetensorsItem*, in header order */
  GHashTable *by_name; /* name -> item (borrowed) */
  GHashTable *metadata;/* string -> string, maybe empty */
} RefsrSafetensorsIndex;

RefsrSafetensorsIndex *refsr_safetensors_index (const guint8 *data,
                                                gsize size, const char *what,
                                                GError **error);
void refsr_safetensors_index_free (RefsrSafetensorsIndex *index);

/* The float tensors (F32, F16 or BF16) of a safetensors file.  `what`
 * names the source in messages (usually the file name). */
RefsrStateDict *refsr_safetensors_read (const guint8 *data, gsize size,
                                        const char *what, GError **error);

/* Writes tensors as safetensors (F32), atomically (temp file + rename):
 * either the whole file appears or nothing does.  metadata may be NULL. */
typedef struct
{
  const char *name;
  const char *dtype;   /* "F32" or "I64" */
  int ndim;
  gint64 shape[REFSR_MAX_DIMS];
  const void *data;
} RefsrSafetensorsEntry;

gboolean refsr_safetensors_write (const char *path,
                                  const RefsrSafetensorsEntry *entries,
                                  int n_entries, GHashTable *metadata,
                                  GError **error);
gboolean refsr_state_dict_write_safetensors (const RefsrStateDict *sd,
                                             const char *path,
                                             GError **error);

#endif
