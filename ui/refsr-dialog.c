/* refsr-dialog.c — the plug-in's GTK 3 dialog: a GimpProcedureDialog with
 * a reference chooser that never offers the layer being enlarged, and a
 * hint of what the filter does and what it will cost for this size, and
 * the tile size in an "Advanced" section.
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

/* GEGL's tile cache in the plug-in: an eighth of the budget, at least
 * 32 MiB (a few hundred of GEGL's tiles, so writing a tile of the layer
 * does not wait for the swap file). */
#define GEGL_CACHE_SHARE 8
#define GEGL_CACHE_MIN (G_GUINT64_CONSTANT (32) << 20)

guint64
refsr_gegl_cache_share (guint64 budget)
{
  return budget == 0 ? 0 : MAX (budget / GEGL_CACHE_SHARE, GEGL_CACHE_MIN);
}

guint64
refsr_engine_share (guint64 budget, int lr_width, int lr_height,
                    int ref_width, int ref_height)
{
  double own = 3.0 * ((double) lr_width * lr_height
                      + (double) ref_width * ref_height)
               + refsr_gegl_cache_share (budget);

  if (budget == 0)
    return 0;
  return budget > own ? budget - (guint64) own : 1;
}

typedef struct
{
  GimpProcedureConfig *config;
  GimpDrawable *target;
  RefsrOptions options;   /* the plug-in's, max_memory its whole budget,
                           * tile_size from config */
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

/* The cost of the run with these sizes and the chosen tile size, as the
 * plug-in will check it: time, memory and tiles, or why it will refuse. */
static char *
cost_text (DialogState *state, int w, int h, int ref_w, int ref_h)
{
  RefsrOptions options = state->options;
  RefsrEstimate estimate = { 0 }, unused;
  gboolean fits, automatic_fits = FALSE;
  char *duration, *memory, *budget, *text;
  int tile_size = 0;

  g_object_get (state->config, "tile-size", &tile_size, NULL);
  options.tile_size = MIN (tile_size, REFSR_MAX_TILE_SIZE);
  options.max_memory = refsr_engine_share (state->options.max_memory, w, h,
                                           ref_w, ref_h);
  fits = refsr_estimate (&state->model, w, h, ref_w, ref_h, &options,
                         &estimate, NULL);
  if (!fits)
    {
      /* the time all the same, from the run without a budget */
      options.max_memory = 0;
      refsr_estimate (&state->model, w, h, ref_w, ref_h, &options, &estimate,
                      NULL);
      options.max_memory = refsr_engine_share (state->options.max_memory, w,
                                               h, ref_w, ref_h);
      options.tile_size = 0;
      automatic_fits = tile_size > 0
                       && refsr_estimate (&state->model, w, h, ref_w, ref_h,
                                          &options, &unused, NULL);
    }
  duration = format_duration (
      estimate.flops
      / (ASSUMED_FLOPS_PER_CORE * MAX (gimp_get_num_processors (), 1)));
  memory = g_format_size (estimate.peak_bytes);
  budget = g_format_size (state->options.max_memory);
  if (fits && estimate.tile_size >= MAX (w, h))
    text = g_strdup_printf (
        _("For this %d × %d layer and a %d × %d reference: about %s, using "
          "%s of memory."),
        w, h, ref_w, ref_h, duration, memory);
  else if (fits)
    text = g_strdup_printf (
        _("For this %d × %d layer and a %d × %d reference: about %s, using "
          "%s of memory, in tiles of %d × %d pixels."),
        w, h, ref_w, ref_h, duration, memory, estimate.tile_size,
        estimate.tile_size);
  else if (automatic_fits)
    text = g_strdup_printf (
        _("For this %d × %d layer and a %d × %d reference: about %s, but "
          "tiles of %d pixels need more memory than the %s the filter may "
          "use: choose a smaller tile size, or 0 (automatic)."),
        w, h, ref_w, ref_h, duration, tile_size, budget);
  else
    text = g_strdup_printf (
        _("For this %d × %d layer and a %d × %d reference: about %s, but "
          "even the smallest tiles need more memory than the %s the filter "
          "may use: choose a smaller reference or a smaller layer."),
        w, h, ref_w, ref_h, duration, budget);
  g_free (budget);
  g_free (memory);
  g_free (duration);
  return text;
}

static void
update_hint (DialogState *state)
{
  GimpLayer *reference = NULL;
  GimpDrawable *ref;
  char *cost, *text;

  g_object_get (state->config, "reference-layer", &reference, NULL);
  ref = reference ? GIMP_DRAWABLE (reference) : state->target;
  cost = cost_text (state, gimp_drawable_get_width (state->target),
                    gimp_drawable_get_height (state->target),
                    gimp_drawable_get_width (ref),
                    gimp_drawable_get_height (ref));
  text = g_strdup_printf ("%s\n%s",
      _("Enlarges the layer with texture taken from the reference: a neural "
        "network (TTSR) finds, for each place of the layer, the most "
        "similar place of the sharper reference and transfers its detail."),
      cost);
  gtk_label_set_text (GTK_LABEL (state->hint), text);
  g_free (text);
  g_free (cost);
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

static void
tile_size_changed (GObject *config, GParamSpec *pspec, DialogState *state)
{
  update_hint (state);
}

/* "Advanced": the tile size, folded away, with what 0 means. */
static void
add_advanced (GimpProcedureDialog *dialog)
{
  GtkWidget *note;

  gimp_procedure_dialog_get_widget (dialog, "tile-size", GIMP_TYPE_LABEL_SPIN);
  note = gimp_procedure_dialog_get_label (dialog, "tile-size-note",
      _("0: automatic, the largest tiles that fit the memory the filter may "
        "use.  Smaller tiles need less memory and take a little longer."),
      FALSE, FALSE);
  gtk_label_set_line_wrap (GTK_LABEL (note), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (note), 52);
  gtk_label_set_xalign (GTK_LABEL (note), 0.0);
  gimp_procedure_dialog_fill_box (dialog, "advanced-box", "tile-size",
                                  "tile-size-note", NULL);
  gimp_procedure_dialog_get_label (dialog, "advanced-title", _("_Advanced"),
                                   FALSE, TRUE);
  gimp_procedure_dialog_fill_expander (dialog, "advanced", "advanced-title",
                                       FALSE, "advanced-box");
}

gboolean
refsr_dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config,
                  GimpDrawable *target, const RefsrOptions *options)
{
  DialogState state = { config, target, *options, { 0 }, NULL };
  GtkWidget *dialog, *content, *chooser;
  gboolean accepted;

  dialog = gimp_procedure_dialog_new (procedure, config,
                                      _("Reference Super-Resolution"));
  add_advanced (GIMP_PROCEDURE_DIALOG (dialog));
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (dialog), "scale",
                              "output", "weights-file", "confidence-map",
                              "advanced", NULL);
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
  g_signal_connect (config, "notify::tile-size",
                    G_CALLBACK (tile_size_changed), &state);

  accepted = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  g_signal_handlers_disconnect_by_func (config, weights_changed, &state);
  g_signal_handlers_disconnect_by_func (config, tile_size_changed, &state);
  gtk_widget_destroy (dialog);
  return accepted;
}
