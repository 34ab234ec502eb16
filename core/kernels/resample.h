/* resample.h — the two bicubic resamplers TTSR uses.  Internal.
 *
 * PIL's (outside the network, on uint8 images) and PyTorch's (inside it, on
 * float maps) are different filters; see spec §3.3 and §7.2. */
#ifndef REFSR_RESAMPLE_H
#define REFSR_RESAMPLE_H

#include "exec.h"
#include "rect.h"

/* Pillow's Image.resize(..., BICUBIC) on interleaved 8-bit pixels with
 * `channels` channels, bit-exact (a = -0.5, antialiased, 22-bit fixed
 * point, horizontal pass first, uint8 between passes).  out is
 * out_w × out_h × channels, tightly packed.  Returns FALSE only when
 * scratch memory cannot be allocated. */
gboolean refsr_pil_resize (const guint8 *in, int in_w, int in_h, int in_stride,
                           int channels, guint8 *out, int out_w, int out_h,
                           GError **error);

/* The window of the same resize (in output pixels), bit for bit what the
 * whole resize has there, computed from the input rows it needs only: a
 * tile of LR↑ without LR↑ whole.  out rows are out_stride bytes apart. */
gboolean refsr_pil_resize_window (const guint8 *in, int in_w, int in_h,
                                  int in_stride, int channels, int out_w,
                                  int out_h, const RefsrRect *window,
                                  guint8 *out, int out_stride,
                                  GError **error);

/* PyTorch F.interpolate(mode='bicubic', align_corners=False) by an integer
 * factor (2 or 4) for every channel: out is c × (h·factor) × (w·factor). */
void refsr_bicubic_upsample (const RefsrTensor *in, int factor,
                             RefsrTensor *out, const RefsrExec *exec);
void refsr_bicubic_upsample_ref (const RefsrTensor *in, int factor,
                                 RefsrTensor *out);

#endif
