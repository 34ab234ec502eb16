/* mainnet.h — the main network's forward pass (spec §6).
 * Internal to the engine (net layer). */
#ifndef REFSR_MAINNET_H
#define REFSR_MAINNET_H

#include "model.h"

/* Progress within a forward pass: called after each layer with the
 * multiply-accumulates done so far in that pass. */
typedef void (*RefsrLayerDone) (double macs, void *data);

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
