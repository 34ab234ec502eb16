/* state-dict.h — named float32 tensors: what every weights reader
 * produces and the network binds.  Internal to the engine (weights layer);
 * the container knows no file format. */
#ifndef REFSR_STATE_DICT_H
#define REFSR_STATE_DICT_H

#include "refsr.h" /* the error domain */

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

#endif
