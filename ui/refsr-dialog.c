/* refsr-dialog.c — the plug-in's GTK 3 dialog: a GimpProcedureDialog with
 * a reference chooser that never offers the layer being enlarged, and a
 * check box that adds every other visible layer to the references (with
 * their count), a hint of what the filter does and what it will cost for
 * these sizes, and the tile size, the search and the reference scales in
 * an "Advanced" section.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>
#include <string.h>

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
                    const RefsrSize *refs, int n_refs)
{
  double own = 3.0 * (double) lr_width * lr_height
               + refsr_gegl_cache_share (budget);

  for (int i = 0; i < n_refs; i++)
    own += 3.0 * (double) refs[i].width * refs[i].height;
  if (budget == 0)
    return 0;
  return budget > own ? budget - (guint64) own : 1;
}

/* Visible as the canvas shows it: the item and every group above it. */
static gboolean
shown (GimpItem *item)
{
  for (; item != NULL; item = gimp_item_get_parent (item))
    if (!gimp_item_get_visible (item))
      return FALSE;
  return TRUE;
}

/* Appends the shown layers of items (NULL-terminated) and of the groups
 * among them, but for those in skip (two of them, either may be NULL). */
static void
add_shown_layers (GimpItem **items, GimpItem *skip0, GimpItem *skip1,
                  GPtrArray *pool)
{
  for (int i = 0; items != NULL && items[i] != NULL; i++)
    {
      GimpItem *item = items[i];

      if (!shown (item))
        continue;
      if (gimp_item_is_group (item))
        {
          GimpItem **children = gimp_item_get_children (item);

          add_shown_layers (children, skip0, skip1, pool);
          g_free (children);
        }
      else if (gimp_item_get_id (item) != gimp_item_get_id (skip0)
               && (skip1 == NULL
                   || gimp_item_get_id (item) != gimp_item_get_id (skip1)))
        g_ptr_array_add (pool, item);
    }
}

GimpDrawable **
refsr_pool_layers (GimpDrawable *target, GimpLayer *reference,
                   gboolean use_all_layers, int *n)
{
  GPtrArray *pool = g_ptr_array_new ();

  if (reference != NULL
      && gimp_item_get_id (GIMP_ITEM (reference))
         == gimp_item_get_id (GIMP_ITEM (target)))
    reference = NULL;
  g_ptr_array_add (pool, reference ? GIMP_DRAWABLE (reference) : target);
  if (use_all_layers)
    {
      GimpImage *image = gimp_item_get_image (GIMP_ITEM (target));
      GimpLayer **layers = gimp_image_get_layers (image);

      add_shown_layers ((GimpItem **) layers, GIMP_ITEM (target),
                        reference ? GIMP_ITEM (reference) : NULL, pool);
      g_free (layers);
    }
  *n = (int) pool->len;
  g_ptr_array_add (pool, NULL);
  return (GimpDrawable **) g_ptr_array_free (pool, FALSE);
}

static gboolean
bad_ref_scales (const char *text, const char *detail, GError **error)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
      _("The reference scales “%s” cannot be used: give “auto”, or scales "
        "greater than 0 and at most 1 separated by commas, each once and at "
        "most %d of them, such as 1,0.5 (%s)."),
      text, REFSR_MAX_REF_SCALES, detail);
  return FALSE;
}

gboolean
refsr_parse_ref_scales (const char *text, RefsrOptions *options,
                        GError **error)
{
  RefsrOptions check = REFSR_OPTIONS_INIT;
  double resolved[REFSR_MAX_REF_SCALES];
  char **parts;
  int n;
  GError *detail = NULL;
  gboolean ok = TRUE;

  char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (*trimmed == '\0' || g_ascii_strcasecmp (trimmed, "auto") == 0)
    {
      options->n_ref_scales = REFSR_REF_SCALES_AUTO;
      g_free (trimmed);
      return TRUE;
    }
  parts = g_strsplit (trimmed, ",", -1);
  g_free (trimmed);
  n = (int) g_strv_length (parts);
  if (n > REFSR_MAX_REF_SCALES)
    ok = bad_ref_scales (text, _("too many scales"), error);
  for (int i = 0; ok && i < n; i++)
    {
      char *part = g_strstrip (parts[i]);
      char *end = NULL;

      /* '.' whatever the locale, as in the Script-Fu call's text */
      check.ref_scales[i] = g_ascii_strtod (part, &end);
      if (end == part || *end != '\0')
        {
          char *detail_text = g_strdup_printf (_("“%s” is not a number"),
                                               part);

          ok = bad_ref_scales (text, detail_text, error);
          g_free (detail_text);
        }
    }
  check.n_ref_scales = n;
  /* the engine's own rules (a range, a scale twice), on a reference so
   * large that none is left out for its size */
  if (ok && refsr_ref_scales (&check, 1 << 30, 1 << 30, resolved,
                              &detail) == 0)
    {
      ok = bad_ref_scales (text, detail->message, error);
      g_error_free (detail);
    }
  g_strfreev (parts);
  if (ok)
    {
      options->n_ref_scales = n;
      memcpy (options->ref_scales, check.ref_scales,
              sizeof options->ref_scales);
    }
  return ok;
}

typedef struct
{
  GimpProcedureConfig *config;
  GimpDrawable *target;
  RefsrOptions options;   /* the plug-in's, max_memory its whole budget,
                           * tile_size from config */
  RefsrConfig model;      /* of the chosen weights, for the estimates */
  GtkWidget *hint;
  GtkWidget *pool_count;  /* how many references the run will search */
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

/* "For this layer and its reference(s)", the subject of the hint. */
static char *
subject_text (int w, int h, const RefsrSize *refs, int n_refs)
{
  if (n_refs == 1)
    return g_strdup_printf (_("For this %d × %d layer and a %d × %d "
                              "reference"),
                            w, h, refs[0].width, refs[0].height);
  return g_strdup_printf (_("For this %d × %d layer and %d references"), w,
                          h, n_refs);
}

/* The engine's estimate with the engine's share of the budget (0: none). */
static gboolean
estimate_pool (DialogState *state, RefsrOptions *options, int w, int h,
               const RefsrSize *refs, int n_refs, guint64 budget,
               RefsrEstimate *estimate)
{
  options->max_memory = budget == 0 ? 0
      : refsr_engine_share (budget, w, h, refs, n_refs);
  return refsr_estimate_pool (&state->model, w, h, refs, n_refs, options,
                              estimate, NULL);
}

/* The cost of the run with these sizes and the chosen tile size, search
 * and reference scales, as the plug-in will check it: time, memory and
 * tiles, or why it will refuse. */
static char *
cost_text (DialogState *state, int w, int h, const RefsrSize *refs,
           int n_refs, const RefsrOptions *chosen)
{
  RefsrOptions options = *chosen;
  RefsrEstimate estimate = { 0 }, unused;
  gboolean fits, automatic_fits = FALSE;
  char *subject, *duration, *memory, *budget, *text;
  int tile_size = options.tile_size;
  guint64 whole = state->options.max_memory;

  fits = estimate_pool (state, &options, w, h, refs, n_refs, whole,
                        &estimate);
  if (!fits)
    {
      /* the time all the same, from the run without a budget */
      estimate_pool (state, &options, w, h, refs, n_refs, 0, &estimate);
      options.tile_size = 0;
      automatic_fits = tile_size > 0
                       && estimate_pool (state, &options, w, h, refs, n_refs,
                                         whole, &unused);
    }
  subject = subject_text (w, h, refs, n_refs);
  duration = format_duration (
      estimate.flops
      / (ASSUMED_FLOPS_PER_CORE * MAX (gimp_get_num_processors (), 1)));
  memory = g_format_size (estimate.peak_bytes);
  budget = g_format_size (whole);
  if (fits && estimate.tile_size >= MAX (w, h))
    text = g_strdup_printf (_("%s: about %s, using %s of memory."), subject,
                            duration, memory);
  else if (fits)
    text = g_strdup_printf (
        _("%s: about %s, using %s of memory, in tiles of %d × %d pixels."),
        subject, duration, memory, estimate.tile_size, estimate.tile_size);
  else if (automatic_fits)
    text = g_strdup_printf (
        _("%s: about %s, but tiles of %d pixels need more memory than the "
          "%s the filter may use: choose a smaller tile size, or 0 "
          "(automatic)."),
        subject, duration, tile_size, budget);
  else
    text = g_strdup_printf (
        _("%s: about %s, but even the smallest tiles need more memory than "
          "the %s the filter may use: choose fewer or smaller references, "
          "or a smaller layer."),
        subject, duration, budget);
  g_free (budget);
  g_free (memory);
  g_free (duration);
  g_free (subject);
  return text;
}

/* The options the run will have, from config; FALSE (with why) when its
 * reference scales cannot be read. */
static gboolean
chosen_options (DialogState *state, RefsrOptions *options, GError **error)
{
  char *scales = NULL;
  int tile_size = 0;
  gboolean ok;

  *options = state->options;
  g_object_get (state->config, "tile-size", &tile_size, "ref-scales",
                &scales, NULL);
  options->tile_size = MIN (tile_size, REFSR_MAX_TILE_SIZE);
  options->search = gimp_procedure_config_get_choice_id (state->config,
                                                         "search");
  ok = refsr_parse_ref_scales (scales, options, error);
  g_free (scales);
  return ok;
}

/* The pool's sizes, as the run will read them; g_free the array. */
static RefsrSize *
pool_sizes (DialogState *state, int *n_refs)
{
  GimpLayer *reference = NULL;
  gboolean use_all = FALSE;
  GimpDrawable **pool;
  RefsrSize *sizes;

  g_object_get (state->config, "reference-layer", &reference,
                "use-all-layers", &use_all, NULL);
  pool = refsr_pool_layers (state->target, reference, use_all, n_refs);
  sizes = g_new (RefsrSize, *n_refs);
  for (int i = 0; i < *n_refs; i++)
    sizes[i] = (RefsrSize) { gimp_drawable_get_width (pool[i]),
                             gimp_drawable_get_height (pool[i]) };
  g_free (pool);
  g_clear_object (&reference);
  return sizes;
}

static void
update_hint (DialogState *state)
{
  RefsrOptions options;
  RefsrSize *refs;
  GError *error = NULL;
  char *cost, *count, *text;
  int n_refs;

  refs = pool_sizes (state, &n_refs);
  count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d reference",
                                        "%d references", n_refs),
                           n_refs);
  if (n_refs > REFSR_MAX_POOL)
    {
      /* the run would refuse: say so where the count is */
      char *refused = g_strdup_printf (
          _("%s: at most %d can be searched at once; hide the layers that "
            "should not serve as references"),
          count, REFSR_MAX_POOL);

      g_free (count);
      count = refused;
    }
  gtk_label_set_text (GTK_LABEL (state->pool_count), count);
  if (chosen_options (state, &options, &error))
    cost = cost_text (state, gimp_drawable_get_width (state->target),
                      gimp_drawable_get_height (state->target), refs, n_refs,
                      &options);
  else
    cost = g_strdup (error->message);
  text = g_strdup_printf ("%s\n%s",
      _("Enlarges the layer with texture taken from the reference: a neural "
        "network (TTSR) finds, for each place of the layer, the most "
        "similar place of the sharper reference and transfers its detail."),
      cost);
  gtk_label_set_text (GTK_LABEL (state->hint), text);
  g_clear_error (&error);
  g_free (text);
  g_free (count);
  g_free (cost);
  g_free (refs);
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

/* Any setting the estimate or the pool depends on. */
static void
setting_changed (GObject *config, GParamSpec *pspec, DialogState *state)
{
  update_hint (state);
}

static GtkWidget *
note_label (GimpProcedureDialog *dialog, const char *id, const char *text)
{
  GtkWidget *note = gimp_procedure_dialog_get_label (dialog, id, text, FALSE,
                                                     FALSE);

  gtk_label_set_line_wrap (GTK_LABEL (note), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (note), 52);
  gtk_label_set_xalign (GTK_LABEL (note), 0.0);
  return note;
}

/* "Advanced", folded away: the tile size, the search and the reference
 * scales, each with what its automatic value means. */
static void
add_advanced (GimpProcedureDialog *dialog)
{
  gimp_procedure_dialog_get_widget (dialog, "tile-size", GIMP_TYPE_LABEL_SPIN);
  note_label (dialog, "tile-size-note",
      _("0: automatic, the largest tiles that fit the memory the filter may "
        "use.  Smaller tiles need less memory and take a little longer."));
  gimp_procedure_dialog_get_widget (dialog, "search", G_TYPE_NONE);
  gimp_procedure_dialog_get_widget (dialog, "ref-scales", G_TYPE_NONE);
  note_label (dialog, "ref-scales-note",
      _("auto: each reference also as reduced to 71% and 50%, for a "
        "reference taken closer than the layer; 1: each as it is.  Or "
        "scales separated by commas, such as 1,0.5."));
  gimp_procedure_dialog_fill_box (dialog, "advanced-box", "tile-size",
                                  "tile-size-note", "search", "ref-scales",
                                  "ref-scales-note", NULL);
  gimp_procedure_dialog_get_label (dialog, "advanced-title", _("_Advanced"),
                                   FALSE, TRUE);
  gimp_procedure_dialog_fill_expander (dialog, "advanced", "advanced-title",
                                       FALSE, "advanced-box");
}

/* The reference chooser, the pool's toggle and its count, at the top. */
static GtkWidget *
references_box (GimpProcedureDialog *dialog, DialogState *state)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *use_all = gimp_procedure_dialog_get_widget (dialog,
      "use-all-layers", G_TYPE_NONE);

  state->pool_count = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (state->pool_count), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (state->pool_count), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (state->pool_count), 52);
  gimp_label_set_attributes (GTK_LABEL (state->pool_count),
                             PANGO_ATTR_STYLE, PANGO_STYLE_ITALIC, -1);
  gtk_box_pack_start (GTK_BOX (box), reference_chooser (state), FALSE, FALSE,
                      0);
  gtk_box_pack_start (GTK_BOX (box), use_all, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), state->pool_count, FALSE, FALSE, 0);
  gtk_widget_show_all (box);
  return box;
}

static const char *const watched[] = {
  "notify::tile-size", "notify::use-all-layers", "notify::search",
  "notify::ref-scales"
};

gboolean
refsr_dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config,
                  GimpDrawable *target, const RefsrOptions *options,
                  const char *reference_note)
{
  DialogState state = { config, target, *options, { 0 }, NULL, NULL };
  GtkWidget *dialog, *content, *references;
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
  references = references_box (GIMP_PROCEDURE_DIALOG (dialog), &state);
  gtk_box_pack_start (GTK_BOX (content), references, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (content), references, 0);
  read_model_config (&state);
  update_hint (&state);
  g_signal_connect (config, "notify::weights-file",
                    G_CALLBACK (weights_changed), &state);
  for (gsize i = 0; i < G_N_ELEMENTS (watched); i++)
    g_signal_connect (config, watched[i], G_CALLBACK (setting_changed),
                      &state);

  accepted = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  g_signal_handlers_disconnect_by_func (config, weights_changed, &state);
  g_signal_handlers_disconnect_by_func (config, setting_changed, &state);
  gtk_widget_destroy (dialog);
  return accepted;
}
