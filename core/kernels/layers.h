/* layers.h — the small element-wise and reshaping layers.  Internal. */
#ifndef REFSR_LAYERS_H
#define REFSR_LAYERS_H

#include "exec.h"

/* PixelShuffle(2) followed by ReLU (TTSR always applies ReLU after it):
 * out[c, 2y+i, 2x+j] = max(in[4c + 2i + j, y, x], 0). */
void refsr_pixel_shuffle2_relu (const RefsrTensor *in, RefsrTensor *out,
                                const RefsrExec *exec);

/* VGG max-pool 2×2, stride 2, floor. */
void refsr_maxpool2 (const RefsrTensor *in, RefsrTensor *out,
                     const RefsrExec *exec);

/* x += t * s, s a single-channel map of x's size (soft attention). */
void refsr_add_scaled (RefsrTensor *x, const RefsrTensor *t,
                       const RefsrTensor *s, const RefsrExec *exec);

/* x += y, same shape. */
void refsr_add (RefsrTensor *x, const RefsrTensor *y, const RefsrExec *exec);

#endif
