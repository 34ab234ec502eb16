/* refsr-dialog.c — the plug-in's GTK 3 dialog: a GimpProcedureDialog with
 * a reference chooser that never offers the layer being enlarged, and a
 * hint of what the filter does and what it will cost for this size.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "refsr.h"
#include "refsr-dialog.h"

/* Throughput per core assumed for the time estimate: refsr-bench measured
 * 150-170 GFLOP/s on two AVX-512 cores (README); older CPUs reach less, so
 * the estimate stays on the safe side. */
#define ASSUMED_FLOPS_PER_CORE 50e9

/* The architecture of the released TTSR model, for estimates when the
 * chosen weights cannot be read. */
#define TTSR_CONFIG { 64, { 16, 16, 8, 4 } }

typedef struct
{
  GimpProcedureConfig *config;
  GimpDrawable *target;
  guint64 memory_budget;
  RefsrConfig model;      /* of the chosen weights, for the estimates */
  GtkWidget *hint;
} DialogState;

/* The layer combo box lists the layers of every open image; the target
 * itself would be a pointless reference (that is what "none" means). */
static gboolean
offer_as_reference (GimpImage *image, GimpItem *item, gpointer data)
{
  DialogState *state = data;

  return gimp_item_get_id (item) != gimp_item_get_id (GIMP_ITEM (state->target));
}

static char *
format_duration (double seconds)
{
  int n;

  if (seconds < 90.0)
    {
      n = MAX (1, (int) (seconds + 0.5));
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d second",
                                           "%d seconds", n), n);
    }
  if (seconds < 90.0 * 60.0)
    {
      n = (int) (seconds / 60.0 + 0.5);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute",
                                           "%d minutes", n), n);
    }
  n = (int) (seconds / 3600.0 + 0.5);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour",
                                       "%d hours", n), n);
}

/* The configuration of the weights the run will use: the chosen file, or
 * the built-in model; TTSR's own when neither can be read (the run will
 * then report why). */
static void
read_model_config (DialogState *state)
{
  static const RefsrConfig ttsr = TTSR_CONFIG;
  GFile *weights = NULL;
  char *path;
  RefsrModel *model;

  g_object_get (state->config, "weights-file", &weights, NULL);
  path = weights != NULL ? g_file_get_path (weights) : NULL;
  model = path != NULL ? refsr_model_load (path, NULL)
                       : weights == NULL ? refsr_model_load_default (NULL)
                                         : NULL;
  state->model = ttsr;
  if (model != NULL)
    refsr_model_get_config (model, &state->model);
  refsr_model_free (model);
  g_free (path);
  g_clear_object (&weights);
}

static void
update_hint (DialogState *state)
{
  const RefsrConfig *model = &state->model;
  GimpLayer *reference = NULL;
  GimpDrawable *ref;
  int w = gimp_drawable_get_width (state->target);
  int h = gimp_drawable_get_height (state->target);
  guint64 bytes;
  char *duration, *memory, *text;

  g_object_get (state->config, "reference-layer", &reference, NULL);
  ref = reference ? GIMP_DRAWABLE (reference) : state->target;
  duration = format_duration (
      refsr_estimate_flops (model, w, h, gimp_drawable_get_width (ref),
                            gimp_drawable_get_height (ref))
      / (ASSUMED_FLOPS_PER_CORE * MAX (gimp_get_num_processors (), 1)));
  bytes = refsr_estimate_memory (model, w, h, gimp_drawable_get_width (ref),
                                 gimp_drawable_get_height (ref));
  memory = g_format_size (bytes);
  text = g_strdup_printf (
      _("Enlarges the layer with texture taken from the reference: a neural "
        "network (TTSR) finds, for each place of the layer, the most "
        "similar place of the sharper reference and transfers its detail.\n"
        "For this %d × %d layer and a %d × %d reference: about %s, using "
        "%s of memory.%s"),
      w, h, gimp_drawable_get_width (ref), gimp_drawable_get_height (ref),
      duration, memory,
      bytes > state->memory_budget
      ? _("\nThat is more memory than the filter may use: choose a smaller "
          "layer or reference.") : "");
  gtk_label_set_text (GTK_LABEL (state->hint), text);
  g_free (text);
  g_free (memory);
  g_free (duration);
  g_clear_object (&reference);
}

static void
reference_changed (GtkWidget *combo, DialogState *state)
{
  GimpLayer *reference = NULL;
  gint id;

  if (gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id)
      && id != -1)
    reference = gimp_layer_get_by_id (id);
  g_object_set (state->config, "reference-layer", reference, NULL);
  update_hint (state);
}

/* The last value may name a layer closed since, or the target itself. */
static gint
initial_reference_id (DialogState *state)
{
  GimpLayer *reference = NULL;
  gint id = -1;

  g_object_get (state->config, "reference-layer", &reference, NULL);
  if (reference != NULL && gimp_item_is_valid (GIMP_ITEM (reference))
      && offer_as_reference (NULL, GIMP_ITEM (reference), state))
    id = gimp_item_get_id (GIMP_ITEM (reference));
  g_clear_object (&reference);
  return id;
}

static GtkWidget *
reference_chooser (DialogState *state)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (_("R_eference layer"));
  GtkWidget *combo = gimp_layer_combo_box_new (offer_as_reference, state,
                                               NULL);

  gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo),
                              GIMP_INT_STORE_VALUE, -1,
                              GIMP_INT_STORE_LABEL,
                              _("None: the layer is its own reference"),
                              -1);
  gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo),
                              initial_reference_id (state),
                              G_CALLBACK (reference_changed), state, NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), combo);
  gtk_widget_set_hexpand (combo, TRUE);
  gtk_box_pack_start (GTK_BOX (row), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row), combo, TRUE, TRUE, 0);
  gtk_widget_show_all (row);
  return row;
}

static GtkWidget *
hint_label (void)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 52);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gimp_label_set_attributes (GTK_LABEL (label),
                             PANGO_ATTR_STYLE, PANGO_STYLE_ITALIC, -1);
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_show (label);
  return label;
}

static void
weights_changed (GObject *config, GParamSpec *pspec, DialogState *state)
{
  read_model_config (state);
  update_hint (state);
}

gboolean
refsr_dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config,
                  GimpDrawable *target, guint64 memory_budget)
{
  DialogState state = { config, target, memory_budget, { 0 }, NULL };
  GtkWidget *dialog, *content, *chooser;
  gboolean accepted;

  dialog = gimp_procedure_dialog_new (procedure, config,
                                      _("Reference Super-Resolution"));
  /* "tile-size" stays out: tiling is not there yet, so the only value
   * that does anything is its default. */
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (dialog), "scale",
                              "output", "weights-file", "confidence-map",
                              NULL);
  /* The generated widgets go into the content area; ours join them there
   * rather than through the dialog's property-to-widget machinery, which
   * has no way to leave the target out of its layer chooser. */
  content = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
  state.hint = hint_label ();
  gtk_box_pack_end (GTK_BOX (content), state.hint, FALSE, FALSE, 0);
  chooser = reference_chooser (&state);
  gtk_box_pack_start (GTK_BOX (content), chooser, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (content), chooser, 0);
  read_model_config (&state);
  update_hint (&state);
  g_signal_connect (config, "notify::weights-file",
                    G_CALLBACK (weights_changed), &state);

  accepted = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  g_signal_handlers_disconnect_by_func (config, weights_changed, &state);
  gtk_widget_destroy (dialog);
  return accepted;
}
