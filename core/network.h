/* network.h — forward passes of the LTE and the main network (spec §4, §6).
 * Internal to the engine. */
#ifndef REFSR_NETWORK_H
#define REFSR_NETWORK_H

#include "model.h"

/* Progress within a forward pass: called after each layer with the
 * multiply-accumulates done so far in that pass. */
typedef void (*RefsrLayerDone) (double macs, void *data);

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

/* sr = MainNet(lr, S, T_lv3, T_lv2, T_lv1), clamped to [-1, 1].  S is
 * 1×h×w; sr must be allocated 3×4h×4w.  Frees nothing of its inputs. */
gboolean refsr_mainnet_forward (const RefsrModel *model, const RefsrTensor *lr,
                                const RefsrTensor *S, const RefsrTensor *t_lv3,
                                const RefsrTensor *t_lv2,
                                const RefsrTensor *t_lv1, RefsrTensor *sr,
                                RefsrLayerDone layer_done, void *layer_data,
                                const RefsrExec *exec, GError **error);
double refsr_mainnet_macs (const RefsrConfig *config, int h, int w);

#endif
