/* refsr-dialog.c — the plug-in's GTK 3 dialog: a GimpProcedureDialog with
 * a live preview (refsr-preview.c), a reference chooser that never offers
 * the layer being enlarged, and a
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
#include "refsr-reference.h"
#include "refsr-preview.h"
#include "refsr-speed.h"
#include "refsr-speed-store.h"

/* Throughput per core assumed until a run or the preview has measured
 * this machine: whole runs on two AVX-512 cores reached about 24 GFLOP/s
 * a core (issue 11: 72 s where 50 GFLOP/s a core promised 35 s), and
 * older CPUs reach less. */
#define GUESSED_FLOPS_PER_CORE 15e9

/* Measured rates vary with the image and the load: the range shown spans
 * at least this much either side of the estimate. */
#define RANGE_LOW 0.85
#define RANGE_HIGH 1.3
/* A guess spans more. */
#define GUESS_LOW 0.5
#define GUESS_HIGH 2.0

/* Longer than this (seconds, at the range's upper end), the hint says how
 * to shorten the run. */
#define LONG_RUN 300.0

/* The settings' height beyond which they scroll, in pixels: with the
 * buttons and a title bar the dialog fits a 768-pixel screen. */
#define SETTINGS_MAX_HEIGHT 560

/* Icons in the reference chooser, in pixels. */
#define CHOOSER_THUMB 24

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
  GtkWidget *reference_note;  /* why this reference was proposed */
  char *proposed_note;
  gint proposed_id;
  GtkWidget *same_image_note; /* which layers a new layer's image enlarges */
  GtkWidget *builtin_button;
  GtkFileChooser *weights_button;
  RefsrPreview *preview;
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

/* "1–2 minutes", or "2 minutes" when both ends round alike. */
static char *
format_range (double low, double high)
{
  double unit = high < 90.0 ? 1.0 : high < 90.0 * 60.0 ? 60.0 : 3600.0;
  int a = MAX (1, (int) (low / unit + 0.5));
  int b = MAX (1, (int) (high / unit + 0.5));

  if (a >= b)
    return format_duration (high);
  if (unit == 1.0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d–%d second",
                                         "%d–%d seconds", b), a, b);
  if (unit == 60.0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d–%d minute",
                                         "%d–%d minutes", b), a, b);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d–%d hour",
                                       "%d–%d hours", b), a, b);
}

/* The time flops take on this machine, as a range, from the measured
 * rates or (measured is FALSE) from a cautious guess. */
static void
time_range (double flops, double *low, double *high, gboolean *measured)
{
  double rate, slowest, fastest;

  *measured = refsr_speed_get_range (&rate, &slowest, &fastest);
  if (!*measured)
    {
      rate = GUESSED_FLOPS_PER_CORE * MAX (gimp_get_num_processors (), 1);
      *low = GUESS_LOW * flops / rate;
      *high = GUESS_HIGH * flops / rate;
      return;
    }
  *low = MIN (flops / fastest, RANGE_LOW * flops / rate);
  *high = MAX (flops / slowest, RANGE_HIGH * flops / rate);
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

/* The search the whole run will make: "auto" decides on the whole
 * image's cost, which the preview's small part would not reach. */
static RefsrSearch
run_search (DialogState *state, const RefsrOptions *options,
            const RefsrSize *refs, int n_refs)
{
  RefsrOptions automatic = *options, fast = *options;
  RefsrEstimate a = { 0 }, f = { 0 };
  int w = gimp_drawable_get_width (state->target);
  int h = gimp_drawable_get_height (state->target);

  if (options->search != REFSR_SEARCH_AUTO)
    return options->search;
  automatic.max_memory = fast.max_memory = 0;
  fast.search = REFSR_SEARCH_FAST;
  if (!refsr_estimate_pool (&state->model, w, h, refs, n_refs, &automatic,
                            &a, NULL)
      || !refsr_estimate_pool (&state->model, w, h, refs, n_refs, &fast, &f,
                               NULL))
    return REFSR_SEARCH_AUTO;
  return a.flops == f.flops ? REFSR_SEARCH_FAST : REFSR_SEARCH_EXACT;
}

/* What to add to the time: that it is a guess, or how to shorten a long
 * run; NULL when nothing need be said. */
static char *
time_advice (double high, gboolean measured, RefsrSearch search)
{
  const char *guess = measured ? NULL
      : _("(A first guess: the preview measures this computer’s speed.)");
  const char *shorten = high <= LONG_RUN ? NULL
      : search == REFSR_SEARCH_FAST
        ? _("That is long: fewer or smaller references shorten it.")
        : _("That is long: Fast search (under Advanced) or fewer references "
            "shorten it.");

  if (guess != NULL && shorten != NULL)
    return g_strdup_printf ("%s %s", shorten, guess);
  return g_strdup (guess != NULL ? guess : shorten);
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
  char *subject, *duration, *memory, *budget, *text, *advice;
  int tile_size = options.tile_size;
  double low, high;
  gboolean measured;
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
  time_range (estimate.flops, &low, &high, &measured);
  duration = format_range (low, high);
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
  advice = time_advice (high, measured,
                        run_search (state, chosen, refs, n_refs));
  if (advice != NULL)
    {
      char *joined = g_strdup_printf ("%s %s", text, advice);

      g_free (text);
      text = joined;
    }
  g_free (advice);
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

/* A layer of the target's own image stays as it is while "New layer"
 * enlarges the image around it: say so where it matters. */
static void
update_same_image_note (DialogState *state)
{
  GimpLayer *reference = NULL;
  gboolean use_all = FALSE, shown_note = FALSE;
  gint image_id = gimp_image_get_id (gimp_item_get_image (
      GIMP_ITEM (state->target)));
  char *output = NULL;
  GimpDrawable **pool;
  int n;

  g_object_get (state->config, "reference-layer", &reference,
                "use-all-layers", &use_all, "output", &output, NULL);
  pool = refsr_pool_layers (state->target, reference, use_all, &n);
  for (int i = 0; i < n && g_strcmp0 (output, "new-layer") == 0; i++)
    shown_note |= gimp_item_get_id (GIMP_ITEM (pool[i]))
                     != gimp_item_get_id (GIMP_ITEM (state->target))
                  && gimp_image_get_id (gimp_item_get_image (
                         GIMP_ITEM (pool[i]))) == image_id;
  gtk_widget_set_visible (state->same_image_note, shown_note);
  g_free (pool);
  g_clear_object (&reference);
  g_free (output);
}

static void
update_hint (DialogState *state)
{
  RefsrOptions options;
  RefsrSize *refs;
  GError *error = NULL;
  char *cost, *count;
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
  /* what the filter does is the help page's: the dialog keeps the cost */
  gtk_label_set_text (GTK_LABEL (state->hint), cost);
  update_same_image_note (state);
  g_clear_error (&error);
  g_free (count);
  g_free (cost);
  g_free (refs);
}

/* Hands the preview what the run would enlarge with. */
static void
update_preview (DialogState *state)
{
  RefsrOptions options;
  GError *error = NULL;
  GimpLayer *reference = NULL;
  GFile *weights = NULL;
  gboolean use_all = FALSE;
  GimpDrawable **pool;
  RefsrSize *sizes;
  int n_refs;

  if (!chosen_options (state, &options, &error))
    {
      refsr_preview_set_error (state->preview, error->message);
      g_error_free (error);
      return;
    }
  g_object_get (state->config, "reference-layer", &reference,
                "use-all-layers", &use_all, "weights-file", &weights, NULL);
  pool = refsr_pool_layers (state->target, reference, use_all, &n_refs);
  sizes = pool_sizes (state, &n_refs);
  options.search = run_search (state, &options, sizes, n_refs);
  if (n_refs > REFSR_MAX_POOL)
    refsr_preview_set_error (state->preview,
                             gtk_label_get_text (GTK_LABEL (state->pool_count)));
  else
    refsr_preview_set (state->preview, weights, pool, n_refs, &options);
  g_free (sizes);
  g_free (pool);
  g_clear_object (&weights);
  g_clear_object (&reference);
}

/* ---- the reference chooser ---------------------------------------- */

enum
{
  COLUMN_ID,
  COLUMN_THUMB,
  COLUMN_LABEL,
  N_COLUMNS
};

static void
add_layer_row (GtkListStore *store, GimpLayer *layer, const char *image_name)
{
  GimpDrawable *drawable = GIMP_DRAWABLE (layer);
  char *name = gimp_item_get_name (GIMP_ITEM (layer));
  /* "image ▸ layer (size)": the size tells references apart at a glance */
  char *label = g_strdup_printf (_("%s ▸ %s (%d × %d)"), image_name, name,
                                 gimp_drawable_get_width (drawable),
                                 gimp_drawable_get_height (drawable));
  GdkPixbuf *thumb = gimp_drawable_get_thumbnail (drawable, CHOOSER_THUMB,
                                                  CHOOSER_THUMB,
                                                  GIMP_PIXBUF_SMALL_CHECKS);
  GtkTreeIter iter;

  gtk_list_store_append (store, &iter);
  gtk_list_store_set (store, &iter, COLUMN_ID,
                      gimp_item_get_id (GIMP_ITEM (layer)), COLUMN_THUMB,
                      thumb, COLUMN_LABEL, label, -1);
  g_clear_object (&thumb);
  g_free (label);
  g_free (name);
}

/* The layers of items and of the groups among them, but target. */
static void
add_layer_rows (GtkListStore *store, GimpItem **items, const char *image_name,
                DialogState *state)
{
  for (int i = 0; items != NULL && items[i] != NULL; i++)
    {
      if (gimp_item_is_group (items[i]))
        {
          GimpItem **children = gimp_item_get_children (items[i]);

          add_layer_rows (store, children, image_name, state);
          g_free (children);
        }
      else if (offer_as_reference (NULL, items[i], state))
        add_layer_row (store, GIMP_LAYER (items[i]), image_name);
    }
}

static GtkListStore *
reference_store (DialogState *state)
{
  GtkListStore *store = gtk_list_store_new (N_COLUMNS, G_TYPE_INT,
                                            GDK_TYPE_PIXBUF, G_TYPE_STRING);
  GimpImage **images = gimp_get_images ();
  GtkTreeIter iter;

  gtk_list_store_append (store, &iter);
  gtk_list_store_set (store, &iter, COLUMN_ID, -1, COLUMN_LABEL,
                      _("None: the layer is its own reference"), -1);
  for (int i = 0; images != NULL && images[i] != NULL; i++)
    {
      GimpLayer **layers = gimp_image_get_layers (images[i]);
      char *image_name = refsr_image_short_name (images[i]);

      add_layer_rows (store, (GimpItem **) layers, image_name, state);
      g_free (image_name);
      g_free (layers);
    }
  g_free (images);
  return store;
}

static void
show_reference_note (DialogState *state, gint id)
{
  gboolean shown = state->proposed_note != NULL && id == state->proposed_id;

  gtk_label_set_text (GTK_LABEL (state->reference_note),
                      shown ? state->proposed_note : "");
  gtk_widget_set_visible (state->reference_note, shown);
}

static void
reference_changed (GtkComboBox *combo, DialogState *state)
{
  GimpLayer *reference = NULL;
  GtkTreeIter iter;
  gint id = -1;

  if (gtk_combo_box_get_active_iter (combo, &iter))
    gtk_tree_model_get (gtk_combo_box_get_model (combo), &iter, COLUMN_ID,
                        &id, -1);
  if (id != -1)
    reference = gimp_layer_get_by_id (id);
  g_object_set (state->config, "reference-layer", reference, NULL);
  show_reference_note (state, id);
  update_hint (state);
  update_preview (state);
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

static void
select_reference (GtkComboBox *combo, gint id)
{
  GtkTreeModel *model = gtk_combo_box_get_model (combo);
  GtkTreeIter iter;
  gboolean valid = gtk_tree_model_get_iter_first (model, &iter);

  for (; valid; valid = gtk_tree_model_iter_next (model, &iter))
    {
      gint row_id;

      gtk_tree_model_get (model, &iter, COLUMN_ID, &row_id, -1);
      if (row_id == id)
        {
          gtk_combo_box_set_active_iter (combo, &iter);
          return;
        }
    }
  gtk_combo_box_set_active (combo, 0);
}

static GtkWidget *
reference_combo (DialogState *state)
{
  GtkListStore *store = reference_store (state);
  GtkWidget *combo = gtk_combo_box_new_with_model (GTK_TREE_MODEL (store));
  GtkCellRenderer *cell = gtk_cell_renderer_pixbuf_new ();

  g_object_unref (store);
  gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (combo), cell, FALSE);
  gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (combo), cell, "pixbuf",
                                  COLUMN_THUMB, NULL);
  cell = gtk_cell_renderer_text_new ();
  /* long names are cut in the middle rather than widening the dialog */
  g_object_set (cell, "ellipsize", PANGO_ELLIPSIZE_MIDDLE, "width-chars", 36,
                NULL);
  gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (combo), cell, TRUE);
  gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (combo), cell, "text",
                                  COLUMN_LABEL, NULL);
  select_reference (GTK_COMBO_BOX (combo), initial_reference_id (state));
  g_signal_connect (combo, "changed", G_CALLBACK (reference_changed), state);
  return combo;
}

static GtkWidget *
reference_chooser (DialogState *state)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (_("Re_ference layer"));
  GtkWidget *combo = reference_combo (state);

  gtk_label_set_mnemonic_widget (GTK_LABEL (label), combo);
  gtk_widget_set_hexpand (combo, TRUE);
  gtk_box_pack_start (GTK_BOX (row), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row), combo, TRUE, TRUE, 0);
  gtk_widget_show_all (row);
  state->proposed_id = initial_reference_id (state);
  return row;
}

static GtkWidget *
hint_label (void)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gimp_label_set_attributes (GTK_LABEL (label),
                             PANGO_ATTR_STYLE, PANGO_STYLE_ITALIC, -1);
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_show (label);
  return label;
}

static void show_weights (DialogState *state);

static void
weights_changed (GObject *config, GParamSpec *pspec, DialogState *state)
{
  show_weights (state);
  read_model_config (state);
  update_hint (state);
  update_preview (state);
}

/* Any setting the estimate or the pool depends on. */
static void
setting_changed (GObject *config, GParamSpec *pspec, DialogState *state)
{
  update_hint (state);
}

/* ... and those the preview depends on too. */
static void
preview_setting_changed (GObject *config, GParamSpec *pspec,
                         DialogState *state)
{
  update_hint (state);
  update_preview (state);
}

static GtkWidget *
note_label (GimpProcedureDialog *dialog, const char *id, const char *text)
{
  GtkWidget *note = gimp_procedure_dialog_get_label (dialog, id, text, FALSE,
                                                     FALSE);

  gtk_label_set_line_wrap (GTK_LABEL (note), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (note), 60);
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
        "use. Smaller tiles need less memory and take a little longer."));
  gimp_procedure_dialog_get_widget (dialog, "search", G_TYPE_NONE);
  gimp_procedure_dialog_get_widget (dialog, "ref-scales", G_TYPE_NONE);
  note_label (dialog, "ref-scales-note",
      _("auto: each reference also as reduced to 71% and 50%, for a "
        "reference taken closer than the layer; 1: each as it is. Or "
        "scales separated by commas, such as 1,0.5."));
  gimp_procedure_dialog_fill_box (dialog, "advanced-box", "tile-size",
                                  "tile-size-note", "search", "ref-scales",
                                  "ref-scales-note", NULL);
  gimp_procedure_dialog_get_label (dialog, "advanced-title", _("A_dvanced"),
                                   FALSE, TRUE);
  gimp_procedure_dialog_fill_expander (dialog, "advanced", "advanced-title",
                                       FALSE, "advanced-box");
}

/* ---- the weights chooser ------------------------------------------ */

/* Our own GtkFileChooserButton rather than the dialog's GimpFileChooser:
 * that one opens on "Recent" with no filter, and cannot be emptied again
 * (it hands GTK an empty file, which GTK refuses). */

static void
add_filter (GtkFileChooser *chooser, const char *name,
            const char *const *patterns)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  for (; *patterns != NULL; patterns++)
    gtk_file_filter_add_pattern (filter, *patterns);
  gtk_file_chooser_add_filter (chooser, filter);
}

static void
weights_selected (GtkFileChooser *button, DialogState *state)
{
  GFile *file = gtk_file_chooser_get_file (button);

  g_object_set (state->config, "weights-file", file, NULL);
  g_clear_object (&file);
}

/* The button follows config (Reset, Load Saved Settings, Built-in). */
static void
show_weights (DialogState *state)
{
  GFile *file = NULL, *shown;

  g_object_get (state->config, "weights-file", &file, NULL);
  shown = gtk_file_chooser_get_file (state->weights_button);
  g_signal_handlers_block_by_func (state->weights_button, weights_selected,
                                   state);
  if (file == NULL)
    {
      gtk_file_chooser_unselect_all (state->weights_button);
      gtk_file_chooser_set_current_folder (state->weights_button,
                                           g_get_home_dir ());
    }
  else if (shown == NULL || !g_file_equal (file, shown))
    gtk_file_chooser_set_file (state->weights_button, file, NULL);
  g_signal_handlers_unblock_by_func (state->weights_button, weights_selected,
                                     state);
  gtk_widget_set_sensitive (state->builtin_button, file != NULL);
  g_clear_object (&shown);
  g_clear_object (&file);
}

static void
use_builtin (GtkButton *button, DialogState *state)
{
  g_object_set (state->config, "weights-file", NULL, NULL);
}

/* "Weights file  [file]  [Built-in model]", its label aligned with those
 * of the generated rows above it. */
static GtkWidget *
weights_row (GimpProcedureDialog *dialog, DialogState *state)
{
  static const char *const weights[] = { "*.safetensors", "*.pt", "*.pth",
                                          NULL };
  static const char *const any[] = { "*", NULL };
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (_("_Weights file"));
  GtkWidget *button = gtk_file_chooser_button_new (
      _("Choose TTSR weights"), GTK_FILE_CHOOSER_ACTION_OPEN);
  GtkWidget *output = gimp_procedure_dialog_get_widget (dialog, "output",
                                                        G_TYPE_NONE);
  GtkSizeGroup *labels = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  state->weights_button = GTK_FILE_CHOOSER (button);
  add_filter (state->weights_button,
              _("TTSR weights (*.safetensors, *.pt)"), weights);
  add_filter (state->weights_button, _("All files"), any);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), button);
  if (GIMP_IS_LABELED (output))
    gtk_size_group_add_widget (labels,
                               gimp_labeled_get_label (GIMP_LABELED (output)));
  gtk_size_group_add_widget (labels, label);
  g_object_unref (labels);
  state->builtin_button = gtk_button_new_with_mnemonic (_("_Built-in model"));
  gtk_widget_set_tooltip_text (state->builtin_button,
      _("Use the model installed with the plug-in"));
  g_signal_connect (state->builtin_button, "clicked",
                    G_CALLBACK (use_builtin), state);
  gtk_box_pack_start (GTK_BOX (row), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row), button, TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (row), state->builtin_button, FALSE, FALSE, 0);
  show_weights (state);
  g_signal_connect (button, "selection-changed",
                    G_CALLBACK (weights_selected), state);
  gtk_widget_show_all (row);
  return row;
}

/* Puts row where widget is in the content area. */
static void
pack_before (GtkWidget *content, GtkWidget *row, GtkWidget *widget)
{
  int position = -1;

  if (gtk_widget_get_parent (widget) == content)
    gtk_container_child_get (GTK_CONTAINER (content), widget, "position",
                             &position, NULL);
  gtk_box_pack_start (GTK_BOX (content), row, FALSE, FALSE, 0);
  if (position >= 0)
    gtk_box_reorder_child (GTK_BOX (content), row, position);
}

/* ---- layout -------------------------------------------------------- */

static GtkWidget *
italic_note (void)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  gimp_label_set_attributes (GTK_LABEL (label),
                             PANGO_ATTR_STYLE, PANGO_STYLE_ITALIC, -1);
  return label;
}

/* The reference chooser and why it holds what it holds, the pool's toggle
 * and its count, at the top. */
static GtkWidget *
references_box (GimpProcedureDialog *dialog, DialogState *state)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *use_all = gimp_procedure_dialog_get_widget (dialog,
      "use-all-layers", G_TYPE_NONE);

  state->pool_count = italic_note ();
  state->reference_note = italic_note ();
  state->same_image_note = italic_note ();
  gtk_label_set_text (GTK_LABEL (state->same_image_note),
      _("With “New layer”, the image’s other layers are enlarged to match; "
        "the reference layers of this image keep their size."));
  gtk_box_pack_start (GTK_BOX (box), reference_chooser (state), FALSE, FALSE,
                      0);
  gtk_box_pack_start (GTK_BOX (box), state->reference_note, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), use_all, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), state->pool_count, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), state->same_image_note, FALSE, FALSE, 0);
  gtk_widget_show_all (box);
  show_reference_note (state, state->proposed_id);
  return box;
}

static void
preview_measured (gpointer data)
{
  update_hint (data);
}

static void
pack_at (GtkWidget *content, GtkWidget *child, int position)
{
  gtk_box_pack_start (GTK_BOX (content), child, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (content), child, position);
}

/* The preview at the left, the settings at the right in a scrolled
 * window: the dialog stays low enough for a 768-pixel screen, Advanced
 * open or not. */
static void
lay_out (GtkWidget *content, GtkWidget *preview, GtkWidget *hint)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *settings = gtk_box_new (GTK_ORIENTATION_VERTICAL,
      gtk_box_get_spacing (GTK_BOX (content)));
  GtkWidget *scrolled = gtk_scrolled_window_new (NULL, NULL);
  GList *children = gtk_container_get_children (GTK_CONTAINER (content));

  /* the generated rows and ours, in their order, into the settings; the
   * buttons (packed at the end) stay below, the dialog's whole width */
  for (GList *l = children; l != NULL; l = l->next)
    {
      GtkWidget *child = l->data;
      gboolean expand, fill;
      guint padding;
      GtkPackType pack_type;

      gtk_box_query_child_packing (GTK_BOX (content), child, &expand, &fill,
                                   &padding, &pack_type);
      if (pack_type == GTK_PACK_END)
        continue;
      g_object_ref (child);
      gtk_container_remove (GTK_CONTAINER (content), child);
      gtk_box_pack_start (GTK_BOX (settings), child, expand, fill, padding);
      g_object_unref (child);
    }
  g_list_free (children);
  gtk_box_pack_start (GTK_BOX (settings), hint, FALSE, FALSE, 0);
  gtk_widget_set_margin_end (settings, 6);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_shadow_type (GTK_SCROLLED_WINDOW (scrolled),
                                       GTK_SHADOW_NONE);
  gtk_scrolled_window_set_propagate_natural_width (
      GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_propagate_natural_height (
      GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled),
                                              SETTINGS_MAX_HEIGHT);
  gtk_container_add (GTK_CONTAINER (scrolled), settings);
  gtk_widget_set_valign (preview, GTK_ALIGN_START);
  gtk_box_pack_start (GTK_BOX (row), preview, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row), scrolled, TRUE, TRUE, 0);
  gtk_widget_show (settings);
  gtk_widget_show (scrolled);
  gtk_widget_show (row);
  gtk_box_pack_start (GTK_BOX (content), row, TRUE, TRUE, 0);
}

static const char *const hint_watched[] = {
  "notify::tile-size", "notify::output"
};
static const char *const preview_watched[] = {
  "notify::use-all-layers", "notify::search", "notify::ref-scales"
};

static void
connect_settings (DialogState *state)
{
  g_signal_connect (state->config, "notify::weights-file",
                    G_CALLBACK (weights_changed), state);
  for (gsize i = 0; i < G_N_ELEMENTS (hint_watched); i++)
    g_signal_connect (state->config, hint_watched[i],
                      G_CALLBACK (setting_changed), state);
  for (gsize i = 0; i < G_N_ELEMENTS (preview_watched); i++)
    g_signal_connect (state->config, preview_watched[i],
                      G_CALLBACK (preview_setting_changed), state);
}

static void
disconnect_settings (DialogState *state)
{
  g_signal_handlers_disconnect_by_func (state->config, weights_changed,
                                        state);
  g_signal_handlers_disconnect_by_func (state->config, setting_changed,
                                        state);
  g_signal_handlers_disconnect_by_func (state->config,
                                        preview_setting_changed, state);
}

gboolean
refsr_dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config,
                  GimpDrawable *target, const RefsrOptions *options,
                  const char *reference_note)
{
  DialogState state = { 0 };
  GtkWidget *dialog, *content;
  GimpProcedureDialog *pd;
  gboolean accepted;

  state.config = config;
  state.target = target;
  state.options = *options;
  state.proposed_note = g_strdup (reference_note);
  dialog = gimp_procedure_dialog_new (procedure, config,
                                      _("Reference Super-Resolution"));
  pd = GIMP_PROCEDURE_DIALOG (dialog);
  add_advanced (pd);
  note_label (pd, "weights-note",
      _("None: the built-in model, installed with the plug-in."));
  gimp_procedure_dialog_fill (pd, "scale", "output", "weights-note",
                              "confidence-map", "advanced", NULL);
  /* The generated widgets go into the content area; ours join them there
   * rather than through the dialog's property-to-widget machinery, which
   * has no way to leave the target out of its layer chooser. */
  content = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
  pack_before (content, weights_row (pd, &state),
               gimp_procedure_dialog_get_widget (pd, "weights-note",
                                                 G_TYPE_NONE));
  state.hint = hint_label ();
  state.preview = refsr_preview_new (target,
      refsr_engine_share (options->max_memory,
                          gimp_drawable_get_width (target),
                          gimp_drawable_get_height (target), NULL, 0),
      preview_measured, &state);
  pack_at (content, references_box (pd, &state), 0);
  lay_out (content, refsr_preview_get_widget (state.preview), state.hint);
  read_model_config (&state);
  update_hint (&state);
  update_preview (&state);
  connect_settings (&state);

  accepted = gimp_procedure_dialog_run (pd);
  disconnect_settings (&state);
  /* before the widgets go: the worker's callback draws into them */
  refsr_preview_free (state.preview);
  gtk_widget_destroy (dialog);
  g_free (state.proposed_note);
  return accepted;
}
