/* conv2d.h — 2-D convolution (PyTorch Conv2d: cross-correlation, zero
 * padding, bias) over a channel concatenation of inputs.  Internal. */
#ifndef REFSR_CONV2D_H
#define REFSR_CONV2D_H

#include "exec.h"

typedef struct
{
  int cout, cin, k;      /* square k×k kernel */
  const float *weight;   /* [cout, cin, k, k] */
  const float *bias;     /* [cout] */
} RefsrConv;

/* What to do with each output value after the bias. */
typedef enum
{
  REFSR_ACT_NONE,
  REFSR_ACT_RELU
} RefsrAct;

/* out = act(conv(cat(inputs[0..n_inputs-1]), stride, pad = k/2)).
 * The inputs share h×w and their channels add up to conv->cin; out must be
 * allocated with cout × ((h + 2p - k)/s + 1) × ((w + 2p - k)/s + 1).
 * Returns FALSE with REFSR_ERROR_NO_MEMORY or _CANCELLED. */
gboolean refsr_conv2d (const RefsrConv *conv, const RefsrTensor *const *inputs,
                       int n_inputs, int stride, RefsrAct act,
                       RefsrTensor *out, const RefsrExec *exec,
                       GError **error);

/* Direct seven-loop reference with the same contract (no allocation). */
void refsr_conv2d_ref (const RefsrConv *conv, const RefsrTensor *const *inputs,
                       int n_inputs, int stride, RefsrAct act,
                       RefsrTensor *out);

/* Output size along one axis. */
static inline int
refsr_conv_out_size (int in, int k, int stride)
{
  return (in + 2 * (k / 2) - k) / stride + 1;
}

#endif
