/* state-dict.h — named float32 tensors read from a weights file.
 * Internal to the engine.
 *
 * Files are untrusted: every reader checks every length, offset, count and
 * shape before using it and reports problems as REFSR_ERROR_WEIGHTS with
 * the file name and where in the file it went wrong. */
#ifndef REFSR_STATE_DICT_H
#define REFSR_STATE_DICT_H

#include <glib.h>

#define REFSR_MAX_DIMS 8

typedef struct
{
  char *name;
  int ndim;
  gint64 shape[REFSR_MAX_DIMS];
  gint64 numel;
  float *data; /* numel floats, owned by the state dict */
} RefsrStateTensor;

typedef struct
{
  GPtrArray *tensors;  /* RefsrStateTensor*, in file order */
  GHashTable *by_name; /* name -> RefsrStateTensor* (borrowed) */
} RefsrStateDict;

RefsrStateDict *refsr_state_dict_new (void);
void refsr_state_dict_free (RefsrStateDict *sd);
/* Takes ownership of data; FALSE with an error on a duplicate name. */
gboolean refsr_state_dict_add (RefsrStateDict *sd, const char *name, int ndim,
                               const gint64 *shape, float *data,
                               GError **error);
const RefsrStateTensor *refsr_state_dict_get (const RefsrStateDict *sd,
                                              const char *name);

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

/* Readers.  `what` names the source in messages (usually the file name). */
RefsrStateDict *refsr_safetensors_read (const guint8 *data, gsize size,
                                        const char *what, GError **error);
RefsrStateDict *refsr_torch_read (const guint8 *data, gsize size,
                                  const char *what, GError **error);
/* Tells the format by content and calls the right reader. */
RefsrStateDict *refsr_state_dict_read (const guint8 *data, gsize size,
                                       const char *what, GError **error);
RefsrStateDict *refsr_state_dict_load (const char *path, GError **error);

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
