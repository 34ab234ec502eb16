/* model.h — the TTSR network's parameters, bound to named weights.
 * Internal to the engine. */
#ifndef REFSR_MODEL_H
#define REFSR_MODEL_H

#include "conv2d.h"
#include "state-dict.h"

typedef struct
{
  RefsrConv conv1, conv2;
} RefsrResBlock;

typedef struct
{
  /* LTE: MeanShift, then VGG19 conv1_1, conv1_2, conv2_1, conv2_2, conv3_1 */
  RefsrConv sub_mean, slice1_0, slice2_2, slice2_5, slice3_7, slice3_10;
} RefsrLte;

typedef struct
{
  RefsrConv conv_head, conv_tail;
  RefsrResBlock *rbs;
} RefsrSfe;

typedef struct
{
  RefsrConv conv12, conv21, conv_merge1, conv_merge2;
} RefsrCsfi2;

typedef struct
{
  RefsrConv conv12, conv13, conv21, conv23, conv31_1, conv31_2, conv32;
  RefsrConv conv_merge1, conv_merge2, conv_merge3;
} RefsrCsfi3;

typedef struct
{
  RefsrConv conv13, conv23, conv_merge, conv_tail1, conv_tail2;
} RefsrMergeTail;

typedef struct
{
  RefsrSfe sfe;
  RefsrConv conv11_head, conv11_tail, conv12;
  RefsrResBlock *rb11;
  RefsrConv conv22_head, conv21_tail, conv22_tail, conv23;
  RefsrCsfi2 ex12;
  RefsrResBlock *rb21, *rb22;
  RefsrConv conv33_head, conv31_tail, conv32_tail, conv33_tail;
  RefsrCsfi3 ex123;
  RefsrResBlock *rb31, *rb32, *rb33;
  RefsrMergeTail merge_tail;
} RefsrMainNet;

struct RefsrModel
{
  RefsrConfig config;
  RefsrLte lte;
  RefsrMainNet main;
  RefsrStateDict *weights; /* owns every float the convs point to */
};

/* Binds a state dict to the architecture: infers the configuration from the
 * keys, then checks that every expected key exists with the right shape and
 * that there is no key left over.  Takes ownership of sd (also on error). */
RefsrModel *refsr_model_from_state_dict (RefsrStateDict *sd, GError **error);

/* The ordered list of (key, shape) the architecture expects for config,
 * used by the binder, the converter and the tests. */
typedef struct
{
  char *name;
  int ndim;
  gint64 shape[4];
} RefsrExpectedKey;
GPtrArray *refsr_model_expected_keys (const RefsrConfig *config);

#endif
