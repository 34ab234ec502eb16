/* lte.h — the learnable texture extractor's forward pass (spec §4).
 * Internal to the engine (net layer). */
#ifndef REFSR_LTE_H
#define REFSR_LTE_H

#include "model.h"

typedef struct
{
  RefsrTensor lv1, lv2, lv3; /* 64×H×W, 128×H/2×W/2, 256×H/4×W/4 */
} RefsrLteFeatures;

/* x is an image in [-1, 1] (3×H×W); the LTE sees (x + 1) / 2.  want_levels
 * is a bit mask (1 = lv1, 2 = lv2, 4 = lv3) of the maps to keep. */
gboolean refsr_lte_forward (const RefsrLte *lte, const RefsrTensor *x,
                            unsigned want_levels, RefsrLteFeatures *out,
                            const RefsrExec *exec, GError **error);
void refsr_lte_features_clear (RefsrLteFeatures *f);
double refsr_lte_macs (int h, int w);

#endif
