/* refsr-preview.h — the dialog's live preview: a small part of the layer
 * enlarged with the chosen reference(s) and options, beside the same part
 * enlarged with NoHalo, on a thumbnail where a click or a drag chooses
 * the part.  The engine runs in a worker thread; a change cancels a stale
 * job, and the model and the prepared reference are kept between updates
 * until the weights, the references or their scales change.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_PREVIEW_H
#define REFSR_PREVIEW_H

#include <libgimp/gimp.h>
#include <gtk/gtk.h>

#include "refsr.h"

/* LR pixels per side of the part enlarged (the preview is 4× that). */
#define REFSR_PREVIEW_SIZE 40

typedef struct RefsrPreview RefsrPreview;

/* Called on the main thread after a preview run measured the speed
 * (refsr_speed_record has been told), so that estimates may follow. */
typedef void (*RefsrPreviewMeasured) (gpointer data);

/* budget: the memory the engine may use (0: no limit), for preparing the
 * reference as the run will. */
RefsrPreview *refsr_preview_new (GimpDrawable *target, guint64 budget,
                                 RefsrPreviewMeasured measured,
                                 gpointer data);
GtkWidget *refsr_preview_get_widget (RefsrPreview *preview);

/* What the preview enlarges with: weights (NULL: the built-in model), the
 * pool's layers and the options (search, reference scales, threads).  A
 * new job starts shortly after, unless the preview is turned off. */
void refsr_preview_set (RefsrPreview *preview, GFile *weights,
                        GimpDrawable **pool, int n_refs,
                        const RefsrOptions *options);

/* Shows text instead of a result (a setting that cannot be used). */
void refsr_preview_set_error (RefsrPreview *preview, const char *text);

/* Cancels a running job, waits for it, frees everything. */
void refsr_preview_free (RefsrPreview *preview);

#endif
