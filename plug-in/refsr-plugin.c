/* refsr-plugin.c — the GIMP 3 plug-in: registers plug-in-refsr
 * (Filters ▸ Enhance ▸ Reference Super-Resolution…), runs the engine on the
 * chosen layer, writing each finished tile of its output straight into a
 * new layer, and puts that layer into the image as one undo step.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <unistd.h>

#include "refsr.h"
#include "refsr-dialog.h"
#include "refsr-gegl.h"
#include "refsr-reference.h"
#include "refsr-speed.h"

#define PLUG_IN_PROC   "plug-in-refsr"
#define PLUG_IN_BINARY "refsr"
#define HELP_DOMAIN    "refsr-help"

/* The reference of the last interactive run, kept in auxiliary arguments:
 * GIMP cannot save the layer argument itself, and an item's ID lasts only
 * one session, hence the tattoo and the names as well. */
#define LAST_REFERENCE_SET    "last-reference-set"
#define LAST_REFERENCE_ID     "last-reference-id"
#define LAST_REFERENCE_TATTOO "last-reference-tattoo"
#define LAST_REFERENCE_NAME   "last-reference-name"
#define LAST_REFERENCE_IMAGE  "last-reference-image"

typedef enum
{
  OUTPUT_NEW_LAYER,
  OUTPUT_NEW_IMAGE
} OutputKind;

/* What the procedure's arguments ask for, read once from the config. */
typedef struct
{
  GimpImage *image;
  GimpLayer *target;
  GimpLayer *reference;   /* NULL: the target is its own reference */
  GFile *weights;         /* NULL: the installed default model */
  int scale;              /* 2, 3 or 4 */
  OutputKind output;
  gboolean confidence_map;
  int tile_size;          /* LR pixels per tile side; 0: automatic */
  gboolean use_all_layers;
  RefsrSearch search;
  char *ref_scales;       /* "auto" or a list (refsr_parse_ref_scales) */
  GimpDrawable **pool;    /* the references searched, the first being the
                           * reference (or the target); libgimp's */
  int n_refs;
} RefsrSettings;

/* A phase's part of the progress bar, from one fraction to another. */
typedef struct
{
  double from, to;
} Share;

/* The run's phases in the order they come, each with a share of the bar
 * in proportion to the time it is expected to take (plan_progress), so
 * that the bar runs once from 0 to 1 without going back. */
typedef struct
{
  Share read;     /* the layers' pixels */
  Share engine;   /* its stages; its tiles go into the layer as they come */
  Share reduce;   /* 2x and 3x: the 4x result reduced */
  Share map;      /* the confidence map */
  Share image;    /* new layer: the rest of the image enlarged */
  double engine_flops; /* the engine's work, as estimated */
} RunBar;

#define REFSR_TYPE_PLUG_IN (refsr_plug_in_get_type ())
G_DECLARE_FINAL_TYPE (RefsrPlugIn, refsr_plug_in, REFSR, PLUG_IN, GimpPlugIn)

struct _RefsrPlugIn
{
  GimpPlugIn parent_instance;
};

G_DEFINE_TYPE (RefsrPlugIn, refsr_plug_in, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (REFSR_TYPE_PLUG_IN)

/* REFSR_MEMORY_BUDGET_MIB: FALSE when unset; when set, a whole number of
 * MiB from 1 on, or FALSE with an error saying what it must be. */
static gboolean
budget_override (guint64 *bytes, GError **error)
{
  const char *value = g_getenv ("REFSR_MEMORY_BUDGET_MIB");
  guint64 mib;

  if (value == NULL || *value == '\0')
    return FALSE;
  if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT64 >> 20, &mib,
                                   NULL))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   _("REFSR_MEMORY_BUDGET_MIB is “%s”: it must be a whole "
                     "number of MiB, such as 2048, or unset (the filter "
                     "then allows itself half of the computer's memory)."),
                   value);
      return FALSE;
    }
  *bytes = mib << 20;
  return TRUE;
}

/* A run refuses a budget override it cannot read, before anything else. */
static gboolean
check_budget_setting (GError **error)
{
  guint64 unused;
  GError *bad = NULL;

  if (budget_override (&unused, &bad) || bad == NULL)
    return TRUE;
  g_propagate_error (error, bad);
  return FALSE;
}

/* The memory a run may use, the engine and the plug-in's own buffers
 * together (refsr_engine_share splits it; the tile size follows from the
 * engine's share): half of the machine's RAM, so that GIMP itself and the
 * system keep room; REFSR_MEMORY_BUDGET_MIB overrides it (README.md).
 * why (may be NULL) receives where the number comes from, for messages. */
static guint64
memory_budget (const char **why)
{
  guint64 bytes;

  if (budget_override (&bytes, NULL))
    {
      if (why != NULL)
        *why = _("the limit set by REFSR_MEMORY_BUDGET_MIB");
      return bytes;
    }
  if (why != NULL)
    *why = _("half of the computer's memory");
  return refsr_physical_memory () / 2;
}

/* GIMP gives its plug-ins its own GEGL tile cache size (half of the
 * machine's memory by default): the plug-in keeps to its share of the
 * budget, and the new layer's tiles and the 4x buffer go on to GIMP or to
 * GEGL's swap file beyond it. */
static void
limit_gegl_cache (void)
{
  guint64 share = refsr_gegl_cache_share (memory_budget (NULL));
  guint64 size = 0;

  g_object_get (gegl_config (), "tile-cache-size", &size, NULL);
  if (share > 0 && (size == 0 || size > share))
    g_object_set (gegl_config (), "tile-cache-size", share, NULL);
}

/* The help pages' folder (holding en/gimp-help.xml), looked for as the
 * built-in model is: beside the plug-in (a per-user install), in the
 * source tree (a plug-in of this build folder), in the installed data. */
static GFile *
help_folder (void)
{
  char *exe = g_file_read_link ("/proc/self/exe", NULL);
  char *dir = exe != NULL ? g_path_get_dirname (exe) : NULL;
  char *candidates[] = {
    dir != NULL ? g_build_filename (dir, "help", NULL) : NULL,
    dir != NULL && g_str_has_prefix (dir, REFSR_BUILD_ROOT "/")
      ? g_build_filename (REFSR_SOURCE_ROOT, "data", "help", NULL) : NULL,
    g_build_filename (REFSR_DATADIR, "help", NULL)
  };
  GFile *found = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      char *map = candidates[i] != NULL
          ? g_build_filename (candidates[i], "en", "gimp-help.xml", NULL)
          : NULL;

      if (found == NULL && map != NULL
          && g_file_test (map, G_FILE_TEST_IS_REGULAR))
        found = g_file_new_for_path (candidates[i]);
      g_free (map);
      g_free (candidates[i]);
    }
  g_free (dir);
  g_free (exe);
  return found;
}

static GList *
refsr_plug_in_query_procedures (GimpPlugIn *plug_in)
{
  /* GIMP then maps the dialog's help ID, the procedure's name, to a page
   * through HELP_FOLDER/LANG/gimp-help.xml instead of asking for its own
   * user manual. */
  GFile *help = help_folder ();

  if (help != NULL)
    gimp_plug_in_set_help_domain (plug_in, HELP_DOMAIN, help);
  g_clear_object (&help);
  return g_list_append (NULL, g_strdup (PLUG_IN_PROC));
}

static gboolean
refsr_plug_in_set_i18n (GimpPlugIn *plug_in, const gchar *procedure_name,
                        gchar **gettext_domain, gchar **catalog_dir)
{
  /* The catalogs live in locale/ beside the executable (GIMP's default
   * catalog_dir); only the domain differs from the binary's name. */
  *gettext_domain = g_strdup (GETTEXT_PACKAGE);
  return TRUE;
}

static GimpValueArray *refsr_plug_in_run (GimpProcedure *procedure,
                                          GimpRunMode run_mode,
                                          GimpImage *image,
                                          GimpDrawable **drawables,
                                          GimpProcedureConfig *config,
                                          gpointer run_data);

static void
add_arguments (GimpProcedure *procedure)
{
  gimp_procedure_add_layer_argument (procedure, "reference-layer",
      _("Re_ference layer"),
      _("A sharp photo of the same scene or material; none: the layer is "
        "its own reference"),
      TRUE, G_PARAM_READWRITE | GIMP_PARAM_DONT_SERIALIZE);
  gimp_procedure_add_choice_argument (procedure, "scale", _("Sc_ale"),
      _("Enlargement factor; 2x and 3x reduce the 4x result with GIMP's "
        "high-quality interpolation"),
      gimp_choice_new_with_values ("2x", 2, _("2×"), NULL,
                                   "3x", 3, _("3×"), NULL,
                                   "4x", 4, _("4×"), NULL, NULL),
      "4x", G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (procedure, "weights-file",
      _("_Weights file"),
      _("TTSR weights (.safetensors or the official .pt checkpoint); "
        "empty: the model installed with the plug-in"),
      GIMP_FILE_CHOOSER_ACTION_OPEN, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "output", _("O_utput"),
      _("Where the enlarged layer goes"),
      gimp_choice_new_with_values (
          "new-layer", OUTPUT_NEW_LAYER,
          _("New layer (the image is enlarged to match)"), NULL,
          "new-image", OUTPUT_NEW_IMAGE, _("New image"), NULL, NULL),
      "new-layer", G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument (procedure, "confidence-map",
      _("Add confidence _map"),
      _("Also add, as a hidden grey layer, how well the reference matched "
        "each place (the soft-attention map): white where its texture was "
        "used"),
      FALSE, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "tile-size", _("_Tile size"),
      _("The layer is enlarged in square tiles of this many pixels per "
        "side (at most 1024), each written into the result as soon as it "
        "is done; 0: automatic, the largest tiles that fit the memory "
        "budget"),
      0, REFSR_MAX_TILE_SIZE, 0, G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument (procedure, "use-all-layers",
      _("Use all _visible layers as references"),
      _("Every other visible layer of the image (not the layer being "
        "enlarged) is searched for texture as well, together with the "
        "reference layer"),
      FALSE, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "search", _("S_earch"),
      _("How the references are searched for each place's texture: exact "
        "compares every place, as TTSR does; fast refines a coarse search "
        "and takes far less time on large images; automatic is exact "
        "unless that would take long"),
      gimp_choice_new_with_values ("auto", REFSR_SEARCH_AUTO,
                                   _("Automatic"), NULL,
                                   "exact", REFSR_SEARCH_EXACT, _("Exact"),
                                   NULL,
                                   "fast", REFSR_SEARCH_FAST, _("Fast"),
                                   NULL, NULL),
      "auto", G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (procedure, "ref-scales",
      _("Refere_nce scales"),
      _("The scales each reference is also searched at: “auto” (1, 0.71 "
        "and 0.5, less those that would make it smaller than 64 pixels), "
        "or scales greater than 0 and at most 1 separated by commas, such "
        "as “1” (each reference as it is) or “1,0.5”"),
      "auto", G_PARAM_READWRITE);
  gimp_procedure_add_layer_return_value (procedure, "layer", _("Layer"),
      _("The enlarged layer"), FALSE, G_PARAM_READWRITE);
}

/* Never shown to users (no dialog or PDB entry lists auxiliary
 * arguments), hence untranslated. */
static void
add_reference_memory (GimpProcedure *procedure)
{
  gimp_procedure_add_boolean_aux_argument (procedure, LAST_REFERENCE_SET,
      "Reference remembered",
      "Whether the last-reference arguments hold an interactive run's "
      "choice", FALSE, G_PARAM_READWRITE);
  gimp_procedure_add_int_aux_argument (procedure, LAST_REFERENCE_ID,
      "Last reference's ID", "0: the layer was its own reference",
      0, G_MAXINT, 0, G_PARAM_READWRITE);
  gimp_procedure_add_int_aux_argument (procedure, LAST_REFERENCE_TATTOO,
      "Last reference's tattoo", "Kept in XCF files, across sessions",
      0, G_MAXINT, 0, G_PARAM_READWRITE);
  gimp_procedure_add_string_aux_argument (procedure, LAST_REFERENCE_NAME,
      "Last reference's name", "The layer's name", "", G_PARAM_READWRITE);
  gimp_procedure_add_string_aux_argument (procedure, LAST_REFERENCE_IMAGE,
      "Last reference's image", "The name of the layer's image", "",
      G_PARAM_READWRITE);
}

static GimpProcedure *
refsr_plug_in_create_procedure (GimpPlugIn *plug_in, const gchar *name)
{
  GimpProcedure *procedure;

  if (g_strcmp0 (name, PLUG_IN_PROC) != 0)
    return NULL;

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        refsr_plug_in_run, NULL, NULL);
  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (procedure,
                                       GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure,
                                 _("Reference _Super-Resolution…"));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Enhance");
  gimp_procedure_set_documentation (procedure,
      _("Enlarge a layer 4× with texture from a sharper reference"),
      _("Enlarges the layer with the Texture Transformer Network (TTSR, "
        "Yang et al., CVPR 2020): a neural network that finds, for each "
        "place of the layer, the best-matching texture in a "
        "high-resolution reference and transfers it into the enlargement."),
      name);
  gimp_procedure_set_attribution (procedure, "the refsr authors",
                                  "the refsr authors", "2026");
  add_arguments (procedure);
  add_reference_memory (procedure);
  return procedure;
}

static void
refsr_plug_in_class_init (RefsrPlugInClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = refsr_plug_in_query_procedures;
  plug_in_class->create_procedure = refsr_plug_in_create_procedure;
  plug_in_class->set_i18n = refsr_plug_in_set_i18n;
}

static void
refsr_plug_in_init (RefsrPlugIn *plug_in)
{
}

/* A command as GIMP's menus name it in the user's language, such as
 * "Image ▸ Crop to Selection": GIMP's own labels from its catalogue, the
 * menu's and the item's (both of action context), without mnemonics and
 * with "..." as "…".  Messages take it as a %s, so they always name a
 * command this GIMP has, in the words it shows. */
static char *
menu_path (const char *context, const char *menu, const char *item)
{
  static gboolean bound = FALSE;
  const char *labels[2] = { menu, item };
  GString *path = g_string_new (NULL);

  if (!bound)
    {
      bindtextdomain ("gimp30", gimp_locale_directory ());
      bind_textdomain_codeset ("gimp30", "UTF-8");
      bound = TRUE;
    }
  for (int i = 0; i < 2; i++)
    {
      char *label = gimp_strip_uline (g_dpgettext2 ("gimp30", context,
                                                    labels[i]));

      if (i > 0)
        g_string_append (path, " ▸ ");
      g_string_append (path, label);
      g_free (label);
    }
  g_string_replace (path, "...", "…", 0);
  return g_string_free (path, FALSE);
}

/* Validation of what the engine cannot see: the kind of image and item. */
static gboolean
check_target (GimpImage *image, GimpDrawable **drawables, GError **error)
{
  if (drawables == NULL || drawables[0] == NULL || drawables[1] != NULL)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           _("Select exactly one layer to enlarge."));
      return FALSE;
    }
  if (gimp_image_get_base_type (image) == GIMP_INDEXED)
    {
      char *mode = menu_path ("image-action", "_Image", "_Mode");

      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("Indexed images cannot be enlarged: convert the image to RGB "
            "or grayscale first (%s)."), mode);
      g_free (mode);
      return FALSE;
    }
  if (!GIMP_IS_LAYER (drawables[0]))
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("Only layers can be enlarged: select a layer, not a channel or "
            "a layer mask."));
      return FALSE;
    }
  return TRUE;
}

static void
read_settings (GimpProcedureConfig *config, GimpImage *image,
               GimpLayer *target, RefsrSettings *settings)
{
  settings->image = image;
  settings->target = target;
  g_object_get (config,
                "reference-layer", &settings->reference,
                "weights-file", &settings->weights,
                "confidence-map", &settings->confidence_map,
                "tile-size", &settings->tile_size,
                "use-all-layers", &settings->use_all_layers,
                "ref-scales", &settings->ref_scales,
                NULL);
  settings->scale = gimp_procedure_config_get_choice_id (config, "scale");
  settings->output = gimp_procedure_config_get_choice_id (config, "output");
  settings->search = gimp_procedure_config_get_choice_id (config, "search");
  if (settings->reference == target)
    g_clear_object (&settings->reference);
  settings->pool = refsr_pool_layers (GIMP_DRAWABLE (target),
                                      settings->reference,
                                      settings->use_all_layers,
                                      &settings->n_refs);
}

static void
clear_settings (RefsrSettings *settings)
{
  g_clear_object (&settings->reference);
  g_clear_object (&settings->weights);
  g_clear_pointer (&settings->ref_scales, g_free);
  g_clear_pointer (&settings->pool, g_free);
}

/* What the engine was doing when it failed, for the advice on memory:
 * only what the failing step depends on is worth changing. */
typedef enum
{
  ENGINE_LOADING,        /* the weights: nothing of the image */
  ENGINE_RUNNING,        /* the layer, its own reference */
  ENGINE_RUNNING_WITH_REFERENCE
} EngineStep;

/* The engine's messages are English and name its internals; the user
 * reads a translated sentence saying what went wrong and what to do, with
 * the engine's text kept after it as detail (one %s).  Running out of
 * memory while enlarging is explain_engine_error's. */
static const char *
engine_error_format (gint code)
{
  switch (code)
    {
    case REFSR_ERROR_CANCELLED:
      return _("Enlarging was cancelled: %s");
    case REFSR_ERROR_INVALID_INPUT:
      return _("The network cannot take a layer and a reference of these "
               "sizes; change the size of the image named here: %s");
    case REFSR_ERROR_WEIGHTS:
      return _("The weights file is not a TTSR model this filter can use; "
               "choose a .safetensors file or the official TTSR .pt "
               "checkpoint: %s");
    case REFSR_ERROR_NO_MEMORY:
      return _("Not enough memory to load the weights file; close other "
               "images or programs and try again: %s");
    case REFSR_ERROR_IO:
      return _("The weights file could not be read; check that it exists "
               "and that you may read it: %s");
    default:
      return _("Enlarging failed: %s");
    }
}

/* Out of memory while enlarging: a smaller part of the layer needs less,
 * and so does a smaller reference when there is one. */
static char *
no_memory_message (const char *detail, EngineStep step)
{
  char *crop = menu_path ("image-action", "_Image", "_Crop to Selection");
  char *message = step == ENGINE_RUNNING_WITH_REFERENCE
      ? g_strdup_printf (_("Not enough memory. Enlarge a smaller part of the "
                           "layer (select the part, then %s) or use a "
                           "smaller reference: %s"), crop, detail)
      : g_strdup_printf (_("Not enough memory. Enlarge a smaller part of the "
                           "layer (select the part, then %s): %s"),
                         crop, detail);

  g_free (crop);
  return message;
}

static void
explain_engine_error (GError *error, EngineStep step)
{
  char *message;

  if (error == NULL || error->domain != REFSR_ERROR)
    return;
  if (error->code == REFSR_ERROR_NO_MEMORY && step != ENGINE_LOADING)
    message = no_memory_message (error->message, step);
  else
    message = g_strdup_printf (engine_error_format (error->code),
                               error->message);
  g_free (error->message);
  error->message = message;
}

static RefsrModel *
load_model (GFile *weights, GError **error)
{
  char *path = NULL;
  RefsrModel *model;
  GError *missing = NULL;

  if (weights != NULL && (path = g_file_get_path (weights)) == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   _("The weights file must be a local file: %s"),
                   g_file_peek_path (weights));
      return NULL;
    }
  if (path == NULL && (path = refsr_default_model_path (&missing)) == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
          _("No weights file was given and the built-in model is not "
            "installed (%s). Choose a TTSR weights file (.safetensors "
            "or the official .pt checkpoint) as “Weights file”."),
          missing->message);
      g_error_free (missing);
      return NULL;
    }
  model = refsr_model_load (path, error);
  g_free (path);
  if (model == NULL && error != NULL)
    explain_engine_error (*error, ENGINE_LOADING);
  return model;
}

/* The sizes of the layer and its references as GIMP knows them:
 * everything about them is checked before a pixel is read or a buffer
 * allocated. */
typedef struct
{
  int lr_width, lr_height;
  int n_refs;
  RefsrSize *refs;    /* the pool's, in its order */
  char **ref_names;   /* their layers' names; the first is NULL when the
                       * layer is its own reference */
  char *name;         /* the layer's name */
} RunSizes;

static void
read_sizes (const RefsrSettings *settings, RunSizes *sizes)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);

  sizes->lr_width = gimp_drawable_get_width (target);
  sizes->lr_height = gimp_drawable_get_height (target);
  sizes->n_refs = settings->n_refs;
  sizes->refs = g_new (RefsrSize, settings->n_refs);
  sizes->ref_names = g_new0 (char *, settings->n_refs);
  for (int i = 0; i < settings->n_refs; i++)
    {
      GimpDrawable *reference = settings->pool[i];

      sizes->refs[i] = (RefsrSize) { gimp_drawable_get_width (reference),
                                     gimp_drawable_get_height (reference) };
      /* gimp_item_get_name returns a copy */
      if (reference != target)
        sizes->ref_names[i] = gimp_item_get_name (GIMP_ITEM (reference));
    }
  sizes->name = gimp_item_get_name (GIMP_ITEM (target));
}

static void
clear_sizes (RunSizes *sizes)
{
  for (int i = 0; i < sizes->n_refs; i++)
    g_free (sizes->ref_names[i]);
  g_clear_pointer (&sizes->ref_names, g_free);
  g_clear_pointer (&sizes->refs, g_free);
  g_clear_pointer (&sizes->name, g_free);
}

/* As many references as the refsr command searches at once: each adds
 * its features to the memory and its search to the time. */
static gboolean
check_pool_count (const RunSizes *sizes, GError **error)
{
  if (sizes->n_refs <= REFSR_MAX_POOL)
    return TRUE;
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
      _("The image has %d visible layers to serve as references; at most "
        "%d can be searched at once. Hide the layers that should not "
        "serve as references, or uncheck “Use all visible layers as "
        "references”."),
      sizes->n_refs, REFSR_MAX_POOL);
  return FALSE;
}

/* refsr_run refuses a smaller reference; checked here as well so that the
 * message says which layer is too small and what to do about it. */
#define REFERENCE_MIN_SIDE 4

static gboolean
check_reference_size (const RunSizes *sizes, int i, GError **error)
{
  const RefsrSize *ref = &sizes->refs[i];

  if (ref->width >= REFERENCE_MIN_SIDE && ref->height >= REFERENCE_MIN_SIDE)
    return TRUE;
  if (sizes->ref_names[i] != NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The reference layer “%s” is %d × %d pixels; a reference must be "
          "at least %d × %d. Choose a larger reference layer."),
        sizes->ref_names[i], ref->width, ref->height,
        REFERENCE_MIN_SIDE, REFERENCE_MIN_SIDE);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The layer is %d × %d pixels; to serve as its own reference it "
          "must be at least %d × %d. Choose a reference layer."),
        sizes->lr_width, sizes->lr_height, REFERENCE_MIN_SIDE,
        REFERENCE_MIN_SIDE);
  return FALSE;
}

static gboolean
check_reference_sizes (const RunSizes *sizes, GError **error)
{
  for (int i = 0; i < sizes->n_refs; i++)
    if (!check_reference_size (sizes, i, error))
      return FALSE;
  return TRUE;
}

/* Megapixels with two decimals, rounded up for a size and down for a
 * limit, so that a size over the limit never reads as equal to it. */
static char *
megapixels (gint64 pixels, gboolean round_up)
{
  gint64 hundredths = round_up ? (pixels + 9999) / 10000 : pixels / 10000;

  return g_strdup_printf ("%.2f", (double) hundredths / 100.0);
}

/* The engine's limit on a reference, for reference i of the pool. */
static gboolean
check_reference_pixels (const RunSizes *sizes, int i, GError **error)
{
  const RefsrSize *ref = &sizes->refs[i];
  gint64 ref_pixels = (gint64) ref->width * ref->height;
  char *size, *limit;

  if (ref_pixels <= REFSR_MAX_REF_PIXELS)
    return TRUE;
  size = megapixels (ref_pixels, TRUE);
  limit = megapixels (REFSR_MAX_REF_PIXELS, FALSE);
  if (sizes->ref_names[i] != NULL)
    {
      char *scale = menu_path ("layers-action", "_Layer", "_Scale Layer...");

      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("The reference layer “%s” is %d × %d pixels (%s megapixels); a "
            "reference may have at most %s megapixels. Make it smaller (%s "
            "in its image) or choose another reference layer."),
          sizes->ref_names[i], ref->width, ref->height, size, limit, scale);
      g_free (scale);
    }
  else
    /* a layer the engine can enlarge, but too large to be its own
     * reference (the reference's limit is the smaller one) */
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The layer is %d × %d pixels (%s megapixels); to serve as its "
          "own reference it may have at most %s megapixels. Choose a "
          "reference layer."),
        sizes->lr_width, sizes->lr_height, size, limit);
  g_free (size);
  g_free (limit);
  return FALSE;
}

/* The engine's own limits (refsr.h), which it would otherwise report only
 * once every layer had been read. */
static gboolean
check_pixel_limits (const RunSizes *sizes, GError **error)
{
  gint64 lr_pixels = (gint64) sizes->lr_width * sizes->lr_height;
  char *size, *limit, *crop, *scale;

  if (lr_pixels > REFSR_MAX_LR_PIXELS)
    {
      size = megapixels (lr_pixels, TRUE);
      limit = megapixels (REFSR_MAX_LR_PIXELS, FALSE);
      crop = menu_path ("image-action", "_Image", "_Crop to Selection");
      scale = menu_path ("layers-action", "_Layer", "_Scale Layer...");
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("The layer is %d × %d pixels (%s megapixels); the filter "
            "enlarges layers of at most %s megapixels. Enlarge a part of it "
            "(select the part, then %s) or make it smaller first (%s)."),
          sizes->lr_width, sizes->lr_height, size, limit, crop, scale);
      g_free (size);
      g_free (limit);
      g_free (crop);
      g_free (scale);
      return FALSE;
    }
  for (int i = 0; i < sizes->n_refs; i++)
    if (!check_reference_pixels (sizes, i, error))
      return FALSE;
  return TRUE;
}

/* The engine's options for this run, as far as they decide its memory
 * and its tiles (max_memory is the whole budget until check_memory gives
 * the engine its share); run_engine adds the rest. */
static gboolean write_tile (const RefsrTile *tile, void *data,
                            GError **error);

static void
init_options (const RefsrSettings *settings, RefsrOptions *options)
{
  *options = (RefsrOptions) REFSR_OPTIONS_INIT;
  options->n_threads = gimp_get_num_processors ();
  options->max_memory = memory_budget (NULL);
  options->tile_size = MIN (settings->tile_size, REFSR_MAX_TILE_SIZE);
  options->tile_done = write_tile;
}

/* The search and the reference scales asked for; FALSE with a message
 * saying what the scales must be. */
static gboolean
init_search_options (const RefsrSettings *settings, RefsrOptions *options,
                     GError **error)
{
  options->search = settings->search;
  return refsr_parse_ref_scales (settings->ref_scales, options, error);
}

/* Whether a run of the layer with references of these sizes in tiles of
 * tile_size (0: automatic) fits the budget; options->max_memory becomes
 * the engine's share of it. */
static gboolean
fits_budget (const RefsrConfig *config, const RunSizes *sizes,
             const RefsrSize *refs, int tile_size, guint64 budget,
             RefsrOptions *options, RefsrEstimate *estimate, GError **error)
{
  options->tile_size = tile_size;
  options->max_memory = refsr_engine_share (budget, sizes->lr_width,
                                            sizes->lr_height, refs,
                                            sizes->n_refs);
  return refsr_estimate_pool (config, sizes->lr_width, sizes->lr_height,
                              refs, sizes->n_refs, options, estimate, error);
}

/* Why even the smallest tiles do not fit when the smallest references
 * would: the reference, or the pool, is what to change. */
static void
set_reference_memory_error (const RunSizes *sizes, const char *budget_text,
                            const char *why, const char *detail,
                            GError **error)
{
  if (sizes->n_refs == 1)
    {
      char *scale = menu_path ("layers-action", "_Layer", "_Scale Layer...");

      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
          _("Enlarging this %d × %d layer with the %d × %d reference layer "
            "“%s” needs more memory than the %s this filter allows itself "
            "(%s), even in the smallest tiles; the layer alone would fit. "
            "Make the reference smaller (%s in its image) or choose a "
            "smaller reference layer: %s"),
          sizes->lr_width, sizes->lr_height, sizes->refs[0].width,
          sizes->refs[0].height,
          sizes->ref_names[0] ? sizes->ref_names[0] : sizes->name,
          budget_text, why, scale, detail);
      g_free (scale);
    }
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer with %d reference layers needs more "
          "memory than the %s this filter allows itself (%s), even in the "
          "smallest tiles; the layer alone would fit. Use fewer or smaller "
          "references (hide layers, or uncheck “Use all visible layers as "
          "references”): %s"),
        sizes->lr_width, sizes->lr_height, sizes->n_refs, budget_text, why,
        detail);
}

/* Why even the smallest tiles and the smallest references do not fit:
 * the layer is what to change (the reference does not matter here). */
static void
set_layer_memory_error (const RunSizes *sizes, const char *budget_text,
                        const char *why, const char *detail, GError **error)
{
  char *crop = menu_path ("image-action", "_Image", "_Crop to Selection");
  char *scale = menu_path ("layers-action", "_Layer", "_Scale Layer...");

  g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
      _("Enlarging this %d × %d layer needs more memory than the %s this "
        "filter allows itself (%s), even in the smallest tiles and with the "
        "smallest reference. Enlarge a part of the layer (select the part, "
        "then %s) or make it smaller first (%s): %s"),
      sizes->lr_width, sizes->lr_height, budget_text, why, crop, scale,
      detail);
  g_free (crop);
  g_free (scale);
}

/* The run's memory, estimated from the sizes alone, in tiles: refused
 * only when no tiles fit the budget.  The message says what to change:
 * the tile size, when automatic tiles would fit; the references, when
 * the smallest ones would fit; else the layer (or the budget).  The
 * engine's own account of the numbers follows as detail (its budget is
 * its share of the one named, see refsr_engine_share). */
static gboolean
check_memory (const RefsrModel *model, const RunSizes *sizes,
              RefsrOptions *options, RefsrEstimate *estimate,
              GError **error)
{
  RefsrConfig config;
  RefsrOptions other = *options;
  RefsrEstimate unused;
  const char *why;
  guint64 budget = memory_budget (&why);
  GError *detail = NULL;
  RefsrSize *smallest;
  char *budget_text;

  refsr_model_get_config (model, &config);
  if (fits_budget (&config, sizes, sizes->refs, options->tile_size, budget,
                   options, estimate, &detail))
    return TRUE;
  budget_text = g_format_size (budget);
  smallest = g_new (RefsrSize, sizes->n_refs);
  for (int i = 0; i < sizes->n_refs; i++)
    smallest[i] = (RefsrSize) { REFERENCE_MIN_SIDE, REFERENCE_MIN_SIDE };
  if (options->tile_size > 0
      && fits_budget (&config, sizes, sizes->refs, 0, budget, &other,
                      &unused, NULL))
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer in tiles of %d pixels needs more "
          "memory than the %s this filter allows itself (%s). Choose a "
          "smaller tile size, or 0 to let the filter choose tiles that "
          "fit: %s"),
        sizes->lr_width, sizes->lr_height, options->tile_size, budget_text,
        why, detail->message);
  else if (fits_budget (&config, sizes, smallest, 0, budget, &other, &unused,
                        NULL))
    set_reference_memory_error (sizes, budget_text, why, detail->message,
                                error);
  else
    set_layer_memory_error (sizes, budget_text, why, detail->message, error);
  g_free (smallest);
  g_free (budget_text);
  g_error_free (detail);
  return FALSE;
}

static const char *
stage_text (const char *stage)
{
  if (g_strcmp0 (stage, "features") == 0)
    return _("Extracting features");
  if (g_strcmp0 (stage, "search") == 0)
    return _("Searching the reference for matching texture");
  if (g_strcmp0 (stage, "transfer") == 0)
    return _("Transferring texture");
  if (g_strcmp0 (stage, "reconstruction") == 0)
    return _("Reconstructing the enlarged image");
  return _("Enlarging");
}

static gboolean
is_8_bit (GimpImage *image)
{
  switch (gimp_image_get_precision (image))
    {
    case GIMP_PRECISION_U8_LINEAR:
    case GIMP_PRECISION_U8_NON_LINEAR:
    case GIMP_PRECISION_U8_PERCEPTUAL:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Where the engine's tiles go while it runs, and what the progress bar
 * shows of it. */
typedef struct
{
  RefsrGeglWriter *writer;  /* into the result layer */
  GeglBuffer *enlarged;     /* 2x and 3x: the 4x output, which GEGL keeps
                             * in tiles (and swaps), reduced at the end */
  const Babl *float_format; /* R'G'B' float of the target's space */
  const Babl *u8_format;    /* R'G'B' u8 of that space: 8-bit images at 4x
                             * get the engine's own bytes, as the refsr
                             * command writes them; NULL otherwise */
  float *band;              /* rows of a tile, interleaved */
  gsize band_floats;
  gboolean failed;          /* a tile could not be written: the error is
                             * the plug-in's, not the engine's */
  int n_tiles, tiles_done;
  const char *stage;
  char *text;               /* shown above the progress bar */
  Share share;              /* the engine's part of the bar */
  gboolean has_reference;   /* not the layer alone: a smaller reference
                             * would need less memory */
  double engine_flops;      /* the run's estimate, for the measured speed */
} TileSink;

/* Rows of a tile interleaved at a time: a tile may be 4096 pixels wide. */
#define TILE_BAND_ROWS 64

static void
show_stage (TileSink *sink)
{
  char *text;

  if (sink->n_tiles > 1 && (g_strcmp0 (sink->stage, "transfer") == 0
                            || g_strcmp0 (sink->stage, "reconstruction") == 0))
    text = g_strdup_printf (_("%s: tile %d of %d"), stage_text (sink->stage),
                            MIN (sink->tiles_done + 1, sink->n_tiles),
                            sink->n_tiles);
  else
    text = g_strdup (stage_text (sink->stage));
  if (g_strcmp0 (text, sink->text) != 0)
    refsr_progress_set_text (text);
  g_free (sink->text);
  sink->text = text;
}

/* Where fraction (0 to 1) of a phase lies on the bar. */
static double
share_at (Share share, double fraction)
{
  return share.from + (share.to - share.from) * CLAMP (fraction, 0.0, 1.0);
}

/* Moves the bar to value, never back: each phase starts where the last
 * one ended, and a value the rounding of the shares puts a hair lower
 * must not show as a jump back.  Each update is a message to GIMP: a
 * thousand steps are plenty. */
static void
show_progress (double value)
{
  static double shown = 0.0;   /* one run per plug-in process */

  value = MIN (value, 1.0);
  if (value >= shown + 0.001 || (value >= 1.0 && shown < 1.0))
    {
      refsr_progress_update (value);
      shown = value;
    }
}

static void
report_progress (double fraction, const char *stage, void *data)
{
  TileSink *sink = data;

  sink->stage = stage;
  show_stage (sink);
  show_progress (share_at (sink->share, fraction));
}

/* A tile of the engine's float output, a band of rows at a time: into
 * the 4x buffer for 2x and 3x, else into the layer. */
static gboolean
write_tile_floats (TileSink *sink, const RefsrTile *tile, GError **error)
{
  gsize band_floats = (gsize) TILE_BAND_ROWS * tile->width * 3;
  gboolean ok = TRUE;

  if (band_floats > sink->band_floats)
    {
      g_free (sink->band);
      sink->band = g_try_malloc (band_floats * sizeof (float));
      sink->band_floats = sink->band ? band_floats : 0;
      if (sink->band == NULL)
        {
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                       _("Out of memory while handling a %d × %d image."),
                       tile->width, tile->height);
          return FALSE;
        }
    }
  for (int y0 = 0; ok && y0 < tile->height; y0 += TILE_BAND_ROWS)
    {
      GeglRectangle rect = { tile->x, tile->y + y0, tile->width,
                             MIN (TILE_BAND_ROWS, tile->height - y0) };

      refsr_gegl_interleave_planes (tile->sr, tile->width, tile->height, y0,
                                    rect.height, sink->band);
      if (sink->enlarged != NULL)
        gegl_buffer_set (sink->enlarged, &rect, 0, sink->float_format,
                         sink->band, GEGL_AUTO_ROWSTRIDE);
      else
        ok = refsr_gegl_writer_put (sink->writer, &rect, sink->float_format,
                                    sink->band, error);
    }
  return ok;
}

/* The engine's tile_done: called once per tile, in raster order, on the
 * thread that runs the engine (the plug-in's only one). */
static gboolean
write_tile (const RefsrTile *tile, void *data, GError **error)
{
  TileSink *sink = data;
  gboolean ok;

  if (sink->u8_format != NULL)
    ok = refsr_gegl_writer_put (sink->writer,
                                GEGL_RECTANGLE (tile->x, tile->y, tile->width,
                                                tile->height),
                                sink->u8_format, tile->pixels, error);
  else
    ok = write_tile_floats (sink, tile, error);
  sink->failed = !ok;
  sink->tiles_done++;
  show_stage (sink);
  return ok;
}

static void
clear_sink (TileSink *sink)
{
  refsr_gegl_writer_free (sink->writer);
  g_clear_object (&sink->enlarged);
  g_clear_pointer (&sink->band, g_free);
  g_clear_pointer (&sink->text, g_free);
}

/* GIMP's Cancel button on a plug-in's progress ends the plug-in's process
 * (app/plug-in/gimpplugin-progress.c), so no cancel flag reaches the
 * engine from here; what makes a cancel harmless is that the new layers
 * join the image only once they are complete. */
static RefsrResult *
run_engine (const RefsrModel *model, const RefsrGeglPixels *lr,
            const RefsrGeglPixels *refs, int n_refs, RefsrOptions *options,
            TileSink *sink, GError **error)
{
  RefsrImage lr_image = { lr->rgb, lr->width, lr->height, lr->width * 3 };
  RefsrImage *ref_images = g_new (RefsrImage, n_refs);
  RefsrResult *result;
  gint64 started;

  for (int i = 0; i < n_refs; i++)
    ref_images[i] = (RefsrImage) { refs[i].rgb, refs[i].width,
                                   refs[i].height, refs[i].width * 3 };
  options->progress = report_progress;
  options->progress_data = sink;
  options->tile_data = sink;
  started = g_get_monotonic_time ();
  result = refsr_run_pool (model, &lr_image, ref_images, n_refs, options,
                           error);
  /* the dialog's next estimates start from this machine's real speed */
  if (result != NULL)
    refsr_speed_record (sink->engine_flops,
                        (g_get_monotonic_time () - started) / 1e6);
  g_free (ref_images);
  if (result == NULL && error != NULL && !sink->failed)
    explain_engine_error (*error, sink->has_reference
                                  ? ENGINE_RUNNING_WITH_REFERENCE
                                  : ENGINE_RUNNING);
  return result;
}

/* The pool's layers' names, separated by commas. */
static char *
pool_names (const RefsrSettings *settings)
{
  GString *names = g_string_new (NULL);

  for (int i = 0; i < settings->n_refs; i++)
    {
      char *name = gimp_item_get_name (GIMP_ITEM (settings->pool[i]));

      g_string_append_printf (names, i > 0 ? ", %s" : "%s", name);
      g_free (name);
    }
  return g_string_free (names, FALSE);
}

/* The layer names what made it: the reference, or every reference of a
 * pool, or that the layer was its own. */
static char *
layer_name (const RefsrSettings *settings, gboolean confidence)
{
  char *names = settings->n_refs > 1 ? pool_names (settings) : NULL;
  char *reference = settings->reference && names == NULL
      ? gimp_item_get_name (GIMP_ITEM (settings->reference)) : NULL;
  char *name;

  if (names != NULL)
    name = confidence
        ? g_strdup_printf (_("Reference SR confidence (refs: %s)"), names)
        : g_strdup_printf (_("Reference SR ×%d (refs: %s)"), settings->scale,
                           names);
  else if (confidence)
    name = reference
        ? g_strdup_printf (_("Reference SR confidence (ref: %s)"), reference)
        : g_strdup (_("Reference SR confidence (self-reference)"));
  else
    name = reference
        ? g_strdup_printf (_("Reference SR ×%d (ref: %s)"), settings->scale,
                           reference)
        : g_strdup_printf (_("Reference SR ×%d (self-reference)"),
                           settings->scale);
  g_free (reference);
  g_free (names);
  return name;
}

/* Sets a GError from GIMP's last PDB error, unless one is set already;
 * format holds one %s for GIMP's text. */
static gboolean
refused_by_gimp (GError **error, const char *format)
{
  if (error != NULL && *error == NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT, format,
                 gimp_pdb_get_last_error (gimp_get_pdb ()));
  return FALSE;
}

/* The result and its confidence map, made and filled while they are not
 * yet in the image, so that inserting them is all that is left to do once
 * the image has been changed, and a failure or a cancel leaves the image
 * as it was. */
typedef struct
{
  GimpImage *image;      /* the target's, which they are made for */
  GimpLayer *result;
  GimpLayer *map;        /* NULL unless confidence-map */
  int x, y;              /* their offsets */
} NewLayers;

static GimpLayer *
new_layer (const RefsrSettings *settings, const NewLayers *layers, int width,
           int height, gboolean confidence, GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  GimpImageType type = gimp_drawable_type (target);
  char *name = layer_name (settings, confidence);
  GimpLayer *layer;

  if (confidence)
    type = gimp_drawable_is_gray (target) ? GIMP_GRAY_IMAGE : GIMP_RGB_IMAGE;
  layer = gimp_layer_new (layers->image, name, width, height, type, 100.0,
                          gimp_image_get_default_new_layer_mode (
                              layers->image));
  g_free (name);
  if (layer == NULL)
    {
      refused_by_gimp (error, _("GIMP refused the new layer: %s"));
      return NULL;
    }
  if (!gimp_layer_set_offsets (layer, layers->x, layers->y)
      || (confidence && !gimp_item_set_visible (GIMP_ITEM (layer), FALSE)))
    {
      refused_by_gimp (error, _("GIMP refused the new layer: %s"));
      gimp_item_delete (GIMP_ITEM (layer));
      return NULL;
    }
  return layer;
}

/* Deletes layers that were made but are not in the image. */
static void
discard_new_layers (NewLayers *layers)
{
  if (layers->result != NULL)
    gimp_item_delete (GIMP_ITEM (layers->result));
  if (layers->map != NULL)
    gimp_item_delete (GIMP_ITEM (layers->map));
  layers->result = layers->map = NULL;
}

/* The confidence map: S, enlarged like the alpha, as a hidden layer. */
static gboolean
fill_confidence_map (const RefsrSettings *settings, const RefsrResult *result,
                     NewLayers *layers, Share share, GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  int width = gimp_drawable_get_width (GIMP_DRAWABLE (layers->result));
  int height = gimp_drawable_get_height (GIMP_DRAWABLE (layers->result));
  GeglBuffer *confidence;
  RefsrGeglWriter *writer = NULL;
  gboolean ok;

  refsr_progress_set_text (_("Making the confidence map"));
  confidence = refsr_gegl_result_confidence (result,
                                             refsr_gegl_space_of (target),
                                             error);
  ok = confidence != NULL
       && (layers->map = new_layer (settings, layers, width, height, TRUE,
                                    error)) != NULL
       && (writer = refsr_gegl_writer_new (layers->map, target, error)) != NULL
       && refsr_gegl_writer_put_resampled (writer, confidence, share.from,
                                           share.to, error);
  refsr_gegl_writer_free (writer);
  g_clear_object (&confidence);
  return ok;
}

/* Reads the pixels, runs the engine with its tiles going into the result
 * layer (through a 4x buffer for 2x and 3x), then adds the confidence
 * map.  The layers are not in the image yet. */
static gboolean
fill_new_layers (const RefsrSettings *settings, const RefsrModel *model,
                 RefsrOptions *options, int tile_size, const RunBar *bar,
                 NewLayers *layers, GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  const Babl *space = refsr_gegl_space_of (target);
  int lr_width = gimp_drawable_get_width (target);
  int lr_height = gimp_drawable_get_height (target);
  RefsrGeglPixels lr = { NULL };
  RefsrGeglPixels *refs = g_new0 (RefsrGeglPixels, settings->n_refs);
  TileSink sink = { NULL };
  RefsrResult *result = NULL;
  gboolean ok;

  sink.float_format = babl_format_with_space ("R'G'B' float", space);
  if (settings->scale == 4 && is_8_bit (settings->image))
    sink.u8_format = babl_format_with_space ("R'G'B' u8", space);
  sink.n_tiles = ((lr_width + tile_size - 1) / tile_size)
                 * ((lr_height + tile_size - 1) / tile_size);
  if (settings->scale != 4)
    sink.enlarged = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 4 * lr_width,
                                                     4 * lr_height),
                                     sink.float_format);
  sink.share = bar->engine;
  sink.engine_flops = bar->engine_flops;
  sink.has_reference = settings->reference != NULL || settings->n_refs > 1;
  refsr_progress_init (_("Reading the layers"));
  ok = (sink.writer = refsr_gegl_writer_new (layers->result, target,
                                             error)) != NULL
       && refsr_gegl_read_rgb (target, target, &lr, error);
  for (int i = 0; ok && i < settings->n_refs; i++)
    {
      show_progress (share_at (bar->read, (i + 1.0) / (settings->n_refs + 1)));
      ok = refsr_gegl_read_rgb (settings->pool[i], target, &refs[i], error);
    }
  ok = ok && (result = run_engine (model, &lr, refs, settings->n_refs,
                                   options, &sink, error)) != NULL;
  refsr_gegl_pixels_clear (&lr);
  for (int i = 0; i < settings->n_refs; i++)
    refsr_gegl_pixels_clear (&refs[i]);
  g_free (refs);
  if (ok && sink.enlarged != NULL)
    {
      refsr_progress_set_text (_("Reducing the enlarged image"));
      ok = refsr_gegl_writer_put_resampled (sink.writer, sink.enlarged,
                                            bar->reduce.from, bar->reduce.to,
                                            error);
    }
  clear_sink (&sink);
  if (ok && settings->confidence_map)
    ok = fill_confidence_map (settings, result, layers, bar->map, error);
  refsr_result_free (result);
  return ok;
}

/* Inserts the result and the confidence map above it (hidden, so the
 * result stays visible) at position of parent.  On failure nothing of
 * them is left, in the image or out of it; format (one %s for GIMP's
 * text) explains the failure. */
static gboolean
insert_new_layers (GimpImage *image, GimpLayer *parent, int position,
                   NewLayers *layers, const char *format, GError **error)
{
  if (!gimp_image_insert_layer (image, layers->result, parent, position))
    {
      refused_by_gimp (error, format);
      discard_new_layers (layers);
      return FALSE;
    }
  if (layers->map != NULL
      && !gimp_image_insert_layer (image, layers->map, parent, position))
    {
      refused_by_gimp (error, format);
      /* Nothing else can be done should the removal fail too: the error
       * already tells the user that the image needs Edit ▸ Undo. */
      gimp_image_remove_layer (image, layers->result);
      layers->result = NULL;
      discard_new_layers (layers);
      return FALSE;
    }
  return TRUE;
}

/* Puts GIMP's reason (the error's text) into format, whose second %s
 * names Edit ▸ Undo: the image has changed, and the user can undo it. */
static void
explain_with_undo (GError **error, const char *format)
{
  char *undo;
  char *message;

  if (error == NULL || *error == NULL)
    return;
  undo = menu_path ("edit-action", "_Edit", "_Undo");
  message = g_strdup_printf (format, (*error)->message, undo);
  g_free ((*error)->message);
  (*error)->message = message;
  g_free (undo);
}

/* Whether item is one of the run's references in the target's image:
 * those keep their pixels and size when the image is enlarged (scaling
 * them would take time and memory and change nothing the user asked
 * for); the target itself is enlarged even when it is its own
 * reference. */
static gboolean
is_kept_reference (const RefsrSettings *settings, GimpItem *item)
{
  if (item == GIMP_ITEM (settings->target))
    return FALSE;
  for (int i = 0; i < settings->n_refs; i++)
    if (GIMP_ITEM (settings->pool[i]) == item)
      return TRUE;
  return FALSE;
}

/* What enlarging the image does, item by item, found before anything
 * changes: layers to enlarge (those in groups included; a group follows
 * its layers), references only moved, channels to enlarge, and the
 * selection when it is not empty. */
typedef struct
{
  GPtrArray *layers;
  GPtrArray *kept;
  GPtrArray *channels;
  gboolean selection;
  GPtrArray *all;       /* every layer, group and path: their locks (the
                         * channels are made anew, see take_out_channel) */
  gint64 pixels;        /* what is written: the enlarged layers, masks
                         * and channels together */
} ImageItems;

/* Each drawable enlarged costs GIMP calls besides its pixels (its resize,
 * offsets, reading its tiles): some 0.04 s on two cores, which the bar
 * counts as this many pixels, or a small image's layers would take far
 * more of the time than of the bar. */
#define ITEM_COST_PIXELS 250000

static void
collect_layers (const RefsrSettings *settings, GimpItem **items,
                ImageItems *found)
{
  int scale2 = settings->scale * settings->scale;

  for (int i = 0; items[i] != NULL; i++)
    {
      GimpItem *item = items[i];
      GimpDrawable *drawable = GIMP_DRAWABLE (item);
      gint64 pixels = (gint64) gimp_drawable_get_width (drawable)
                      * gimp_drawable_get_height (drawable) * scale2;

      g_ptr_array_add (found->all, item);
      if (is_kept_reference (settings, item))
        g_ptr_array_add (found->kept, item);
      else if (gimp_item_is_group (item))
        {
          GimpItem **children = gimp_item_get_children (item);

          collect_layers (settings, children, found);
          g_free (children);
        }
      else
        {
          g_ptr_array_add (found->layers, item);
          found->pixels += (gimp_layer_get_mask (GIMP_LAYER (item)) != NULL
                            ? 2 : 1) * (pixels + ITEM_COST_PIXELS);
        }
    }
}

static void
collect_items (const RefsrSettings *settings, ImageItems *found)
{
  GimpImage *image = settings->image;
  GimpLayer **layers = gimp_image_get_layers (image);
  GimpChannel **channels = gimp_image_get_channels (image);
  GimpPath **paths = gimp_image_get_paths (image);
  gint64 image_pixels = (gint64) gimp_image_get_width (image)
                        * gimp_image_get_height (image)
                        * settings->scale * settings->scale;

  found->layers = g_ptr_array_new ();
  found->kept = g_ptr_array_new ();
  found->channels = g_ptr_array_new ();
  found->all = g_ptr_array_new ();
  found->pixels = 0;
  collect_layers (settings, (GimpItem **) layers, found);
  for (int i = 0; channels[i] != NULL; i++)
    g_ptr_array_add (found->channels, channels[i]);
  for (int i = 0; paths[i] != NULL; i++)
    g_ptr_array_add (found->all, paths[i]);
  found->selection = !gimp_selection_is_empty (image);
  found->pixels += (found->channels->len + (found->selection ? 1 : 0))
                   * (image_pixels + ITEM_COST_PIXELS);
  g_free (layers);
  g_free (channels);
  g_free (paths);
}

static void
clear_items (ImageItems *found)
{
  g_clear_pointer (&found->layers, g_ptr_array_unref);
  g_clear_pointer (&found->kept, g_ptr_array_unref);
  g_clear_pointer (&found->channels, g_ptr_array_unref);
  g_clear_pointer (&found->all, g_ptr_array_unref);
}

/* The image phase of the bar: pixels written so far of all. */
typedef struct
{
  Share share;
  gint64 total, done;
} ImageBar;

/* A copy of a part of drawable's pixels in its own format: the source of
 * its enlargement, which GIMP's buffer stops being once it is resized. */
static GeglBuffer *
copy_pixels (GimpDrawable *drawable, const GeglRectangle *rect)
{
  GeglBuffer *buffer = gimp_drawable_get_buffer (drawable);
  GeglBuffer *copy = gegl_buffer_new (rect, gimp_drawable_get_format (drawable));

  gegl_buffer_copy (buffer, rect, GEGL_ABYSS_NONE, copy, rect);
  g_object_unref (buffer);
  return copy;
}

/* Fills drawable (already of the enlarged size) with source enlarged by
 * scale, with NoHalo as GIMP's Scale Image does.  The plug-in does what
 * GIMP's scaling would do because GIMP's own scaling calls drive the
 * plug-in's progress from 0 again (see enlarge_image).  The pixels go
 * straight into the drawable, not through its shadow, whose merge would
 * keep to the selection: the drawable's buffer is the one its resize
 * (the layer's, or the canvas's for a channel) has just made, and that
 * resize's undo step keeps the former one, so Edit ▸ Undo restores it
 * and Redo brings back these pixels. */
static gboolean
enlarge_pixels (GimpDrawable *drawable, GeglBuffer *source, int scale,
                ImageBar *bar)
{
  GeglBuffer *dest = gimp_drawable_get_buffer (drawable);
  GeglNode *graph = gegl_node_new ();
  GeglNode *write = gegl_node_new_child (graph,
      "operation", "gegl:write-buffer", "buffer", dest, NULL);
  GeglProcessor *processor;
  gint64 pixels = (gint64) gegl_buffer_get_width (dest)
                  * gegl_buffer_get_height (dest);
  double done = 0.0;

  bar->done += ITEM_COST_PIXELS;
  gegl_node_link_many (
      gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                           "buffer", source, NULL),
      gegl_node_new_child (graph, "operation", "gegl:scale-ratio",
                           "x", (double) scale, "y", (double) scale,
                           "sampler", GEGL_SAMPLER_NOHALO,
                           "abyss-policy", GEGL_ABYSS_CLAMP, NULL),
      write, NULL);
  processor = gegl_node_new_processor (write, gegl_buffer_get_extent (dest));
  while (gegl_processor_work (processor, &done))
    show_progress (share_at (bar->share,
                             (bar->done + done * pixels) / MAX (bar->total, 1)));
  bar->done += pixels;
  g_object_unref (processor);
  g_object_unref (graph);
  gegl_buffer_flush (dest);
  g_object_unref (dest);
  return gimp_drawable_update (drawable, 0, 0,
                               gimp_drawable_get_width (drawable),
                               gimp_drawable_get_height (drawable));
}

/* Content and position locks would refuse the enlargement (a group's
 * lock holds for its layers too); GIMP's Scale Image disregards them.
 * They are lifted for it and put back after, within the undo group. */
typedef struct
{
  GimpItem *item;
  gboolean content, position;
} ItemLocks;

static GArray *
unlock_items (GPtrArray *items)
{
  GArray *locked = g_array_new (FALSE, FALSE, sizeof (ItemLocks));

  for (guint i = 0; i < items->len; i++)
    {
      ItemLocks locks = { items->pdata[i],
                          gimp_item_get_lock_content (items->pdata[i]),
                          gimp_item_get_lock_position (items->pdata[i]) };

      if (!locks.content && !locks.position)
        continue;
      g_array_append_val (locked, locks);
      if (locks.content)
        gimp_item_set_lock_content (locks.item, FALSE);
      if (locks.position)
        gimp_item_set_lock_position (locks.item, FALSE);
    }
  return locked;
}

static gboolean
relock_items (GArray *locked)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < locked->len; i++)
    {
      ItemLocks *locks = &g_array_index (locked, ItemLocks, i);

      ok = (!locks->content || gimp_item_set_lock_content (locks->item, TRUE))
           && (!locks->position
               || gimp_item_set_lock_position (locks->item, TRUE))
           && ok;
    }
  g_array_unref (locked);
  return ok;
}

/* A layer and its mask enlarged, its offsets scaled. */
static gboolean
enlarge_layer (GimpLayer *layer, int scale, ImageBar *bar)
{
  GimpDrawable *drawable = GIMP_DRAWABLE (layer);
  GimpLayerMask *mask = gimp_layer_get_mask (layer);
  GeglRectangle rect = { 0, 0, gimp_drawable_get_width (drawable),
                         gimp_drawable_get_height (drawable) };
  GeglBuffer *pixels = copy_pixels (drawable, &rect);
  GeglBuffer *mask_pixels = mask != NULL
      ? copy_pixels (GIMP_DRAWABLE (mask), &rect) : NULL;
  int x = 0, y = 0;
  gboolean ok;

  ok = gimp_drawable_get_offsets (drawable, &x, &y)
       && gimp_layer_resize (layer, rect.width * scale, rect.height * scale,
                             0, 0)
       && enlarge_pixels (drawable, pixels, scale, bar)
       && (mask == NULL
           || enlarge_pixels (GIMP_DRAWABLE (mask), mask_pixels, scale, bar))
       && gimp_layer_set_offsets (layer, x * scale, y * scale);
  g_object_unref (pixels);
  g_clear_object (&mask_pixels);
  return ok;
}

/* A channel as it was, for a new one of the enlarged size.  Channels are
 * taken out of the image before its canvas grows and new ones put in
 * after: GIMP 3.0.4's undo of a canvas resize leaves channels at the
 * larger size (found in its GUI: Edit ▸ Undo of Image ▸ Canvas Size
 * alone does it too), while removing and inserting items undoes
 * exactly. */
typedef struct
{
  char *name;
  GeglColor *color;
  double opacity;
  gboolean visible, show_masked;
  gboolean lock_content, lock_position, lock_visibility;
  GimpColorTag color_tag;
  guint tattoo;
  int position;
  GeglBuffer *pixels;
} SavedChannel;

static void
saved_channel_clear (gpointer data)
{
  SavedChannel *saved = data;

  g_free (saved->name);
  g_clear_object (&saved->color);
  g_clear_object (&saved->pixels);
}

static gboolean
take_out_channel (GimpImage *image, GimpChannel *channel, GArray *saved)
{
  GimpItem *item = GIMP_ITEM (channel);
  GimpDrawable *drawable = GIMP_DRAWABLE (channel);
  SavedChannel keep = {
    gimp_item_get_name (item), gimp_channel_get_color (channel),
    gimp_channel_get_opacity (channel), gimp_item_get_visible (item),
    gimp_channel_get_show_masked (channel), gimp_item_get_lock_content (item),
    gimp_item_get_lock_position (item), gimp_item_get_lock_visibility (item),
    gimp_item_get_color_tag (item), gimp_item_get_tattoo (item),
    gimp_image_get_item_position (image, item),
    copy_pixels (drawable, GEGL_RECTANGLE (0, 0,
                                           gimp_drawable_get_width (drawable),
                                           gimp_drawable_get_height (drawable)))
  };

  g_array_append_val (saved, keep);
  return gimp_image_remove_channel (image, channel);
}

/* A new channel of the enlarged image's size in place of one taken out,
 * with its pixels enlarged and its properties and tattoo. */
static GimpChannel *
put_back_channel (GimpImage *image, const SavedChannel *saved, int scale,
                  ImageBar *bar)
{
  GimpChannel *channel = gimp_channel_new (image, saved->name,
                                           gimp_image_get_width (image),
                                           gimp_image_get_height (image),
                                           saved->opacity, saved->color);
  GimpItem *item = GIMP_ITEM (channel);
  gboolean ok;

  ok = channel != NULL
       && gimp_image_insert_channel (image, channel, NULL, saved->position)
       && enlarge_pixels (GIMP_DRAWABLE (channel), saved->pixels, scale, bar)
       && gimp_item_set_visible (item, saved->visible)
       && gimp_channel_set_show_masked (channel, saved->show_masked)
       && gimp_item_set_color_tag (item, saved->color_tag)
       && gimp_item_set_lock_content (item, saved->lock_content)
       && gimp_item_set_lock_position (item, saved->lock_position)
       && gimp_item_set_lock_visibility (item, saved->lock_visibility);
  /* scripts may find it by its tattoo; GIMP may refuse one still held
   * by the removed channel's undo step, which is no reason to fail */
  if (ok)
    gimp_item_set_tattoo (item, saved->tattoo);
  return ok ? channel : NULL;
}

/* The selection, kept aside while the canvas grows and made again from
 * its enlarged pixels (through a channel made and removed for it). */
static GeglBuffer *
take_out_selection (GimpImage *image)
{
  GimpDrawable *mask = GIMP_DRAWABLE (gimp_image_get_selection (image));
  GeglBuffer *pixels = copy_pixels (mask, GEGL_RECTANGLE (
      0, 0, gimp_drawable_get_width (mask), gimp_drawable_get_height (mask)));

  if (!gimp_selection_none (image))
    g_clear_object (&pixels);
  return pixels;
}

static gboolean
put_back_selection (GimpImage *image, GeglBuffer *pixels, int scale,
                    ImageBar *bar)
{
  GeglColor *black = gegl_color_new ("black");
  GimpChannel *channel = gimp_channel_new (image, "refsr selection",
                                           gimp_image_get_width (image),
                                           gimp_image_get_height (image),
                                           0.0, black);
  gboolean ok;

  g_object_unref (black);
  ok = channel != NULL
       && gimp_image_insert_channel (image, channel, NULL, 0)
       && enlarge_pixels (GIMP_DRAWABLE (channel), pixels, scale, bar)
       && gimp_image_select_item (image, GIMP_CHANNEL_OP_REPLACE,
                                  GIMP_ITEM (channel));
  if (channel != NULL)
    ok = gimp_image_remove_channel (image, channel) && ok;
  return ok;
}

/* Enlarges the canvas, with the channels and the selection taken out
 * before and put back, enlarged, after. */
static gboolean
enlarge_canvas (GimpImage *image, const ImageItems *items, int scale,
                ImageBar *bar)
{
  int width = gimp_image_get_width (image);
  int height = gimp_image_get_height (image);
  GArray *saved = g_array_new (FALSE, FALSE, sizeof (SavedChannel));
  GeglBuffer *selection = NULL;
  gboolean ok = TRUE;

  g_array_set_clear_func (saved, saved_channel_clear);
  for (guint i = 0; ok && i < items->channels->len; i++)
    ok = take_out_channel (image, items->channels->pdata[i], saved);
  if (ok && items->selection)
    ok = (selection = take_out_selection (image)) != NULL;
  ok = ok && gimp_image_resize (image, width * scale, height * scale, 0, 0);
  /* in reverse order, each at the position it was taken out of: the
   * channels' order as it was */
  for (guint i = saved->len; ok && i > 0; i--)
    ok = put_back_channel (image, &g_array_index (saved, SavedChannel, i - 1),
                           scale, bar) != NULL;
  if (ok && selection != NULL)
    ok = put_back_selection (image, selection, scale, bar);
  g_clear_object (&selection);
  g_array_unref (saved);
  return ok;
}

/* A reference stays as it is, at the same place relative to the image. */
static gboolean
move_kept_layer (GimpLayer *layer, int scale)
{
  int x = 0, y = 0;

  return gimp_drawable_get_offsets (GIMP_DRAWABLE (layer), &x, &y)
         && gimp_layer_set_offsets (layer, x * scale, y * scale);
}

/* Paths scaled stroke by stroke: GIMP's item transforms would start and
 * end the plug-in's progress bar. */
static gboolean
enlarge_paths (GimpImage *image, int scale)
{
  GimpPath **paths = gimp_image_get_paths (image);
  gboolean ok = TRUE;

  for (int i = 0; ok && paths[i] != NULL; i++)
    {
      gsize n_strokes = 0;
      gint *strokes = gimp_path_get_strokes (paths[i], &n_strokes);

      for (gsize j = 0; ok && j < n_strokes; j++)
        ok = gimp_path_stroke_scale (paths[i], strokes[j], scale, scale);
      g_free (strokes);
    }
  g_free (paths);
  return ok;
}

/* Guides and sample points move with the image (new ones at the scaled
 * positions: GIMP has no call to move one). */
static gboolean
move_guides (GimpImage *image, int scale)
{
  GArray *positions = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean ok = TRUE;
  guint guide;

  while ((guide = gimp_image_find_next_guide (image, 0)) != 0 && ok)
    {
      int position = gimp_image_get_guide_position (image, guide) * scale;

      if (gimp_image_get_guide_orientation (image, guide)
          == GIMP_ORIENTATION_VERTICAL)
        position = -1 - position;
      g_array_append_val (positions, position);
      ok = gimp_image_delete_guide (image, guide);
    }
  for (guint i = 0; ok && i < positions->len; i++)
    {
      int position = g_array_index (positions, int, i);

      ok = (position >= 0 ? gimp_image_add_hguide (image, position)
                          : gimp_image_add_vguide (image, -1 - position)) != 0;
    }
  g_array_unref (positions);
  return ok;
}

static gboolean
move_sample_points (GimpImage *image, int scale)
{
  GArray *points = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean ok = TRUE;
  guint point;

  while ((point = gimp_image_find_next_sample_point (image, 0)) != 0 && ok)
    {
      int y = 0;
      int x = gimp_image_get_sample_point_position (image, point, &y);

      x *= scale;
      y *= scale;
      g_array_append_val (points, x);
      g_array_append_val (points, y);
      ok = gimp_image_delete_sample_point (image, point);
    }
  for (guint i = 0; ok && i + 1 < points->len; i += 2)
    ok = gimp_image_add_sample_point (image, g_array_index (points, int, i),
                                      g_array_index (points, int, i + 1)) != 0;
  g_array_unref (points);
  return ok;
}

/* The rest of the image enlarged around the result: the canvas, then each
 * layer, mask and channel but the references, which keep their pixels
 * and size and only move, then paths, guides and sample points, all in
 * the caller's undo group.  gimp_image_scale would do it in one call, but
 * it scales the references too (a 2016 × 1512 reference: 24 s and 146 MB
 * more), and its GimpSubProgress drives the caller's bar from 0 to 1
 * again under the last label; the per-layer scale and transform calls
 * start a bar of their own on an ended one.  The canvas's enlargement and
 * the moves drive no progress, so the pixels are enlarged here, on the
 * plug-in's own bar. */
static gboolean
enlarge_image (const RefsrSettings *settings, Share share, GError **error)
{
  GimpImage *image = settings->image;
  int scale = settings->scale;
  ImageItems items;
  ImageBar bar = { share, 0, 0 };
  GArray *locked;
  gboolean ok;

  collect_items (settings, &items);
  bar.total = items.pixels;
  refsr_progress_set_text (_("Enlarging the image's other layers"));
  show_progress (share.from);
  locked = unlock_items (items.all);
  ok = enlarge_canvas (image, &items, scale, &bar);
  for (guint i = 0; ok && i < items.layers->len; i++)
    ok = enlarge_layer (items.layers->pdata[i], scale, &bar);
  for (guint i = 0; ok && i < items.kept->len; i++)
    ok = move_kept_layer (items.kept->pdata[i], scale);
  ok = ok && enlarge_paths (image, scale) && move_guides (image, scale)
       && move_sample_points (image, scale);
  ok = relock_items (locked) && ok;
  clear_items (&items);
  if (!ok)
    {
      refused_by_gimp (error, "%s");
      explain_with_undo (error,
          _("GIMP could not enlarge the rest of the image: %s. %s gives the "
            "image its former size."));
    }
  return ok;
}

/* A new layer goes into the target's layer group.  Locked pixels of a
 * group forbid adding layers to it (GIMP ends a plug-in that writes
 * there), and the lock is the user's wish: refuse before any work. */
static gboolean
check_parents_unlocked (const RefsrSettings *settings, GError **error)
{
  GimpItem *group = gimp_item_get_parent (GIMP_ITEM (settings->target));

  if (settings->output != OUTPUT_NEW_LAYER)
    return TRUE;
  for (; group != NULL; group = gimp_item_get_parent (group))
    if (gimp_item_get_lock_content (group))
      {
        char *name = gimp_item_get_name (group);

        g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
            _("The layer is inside the layer group “%s”, whose pixels are "
              "locked, so the enlarged layer cannot be added beside it. "
              "Unlock the group’s pixels in the Layers dialog, or choose "
              "“New image” as Output."),
            name);
        g_free (name);
        return FALSE;
      }
  return TRUE;
}

/* GIMP selects each layer it inserts, the hidden confidence map last;
 * the user wants to see and work on the result. */
static gboolean
select_layer (GimpImage *image, GimpLayer *layer)
{
  const GimpLayer *layers[] = { layer, NULL };

  return gimp_image_set_selected_layers (image, layers);
}

/* Everything that can fail before the image changes (making and filling
 * the layers) is done; the image's enlargement and the layers' insertion
 * are one undo group, so should either fail, Edit ▸ Undo restores the
 * image as it was. */
static GimpLayer *
apply_as_new_layer (const RefsrSettings *settings, NewLayers *layers,
                    const RunBar *bar, GError **error)
{
  GimpImage *image = settings->image;
  GimpItem *target = GIMP_ITEM (settings->target);
  GimpLayer *parent = GIMP_LAYER (gimp_item_get_parent (target));
  int position = gimp_image_get_item_position (image, target);
  gboolean done;

  if (!gimp_image_undo_group_start (image))
    {
      refused_by_gimp (error, _("GIMP could not enlarge the image: %s"));
      discard_new_layers (layers);
      return NULL;
    }
  done = enlarge_image (settings, bar->image, error);
  /* Putting channels back selected them instead of the layer; the new
   * layer's undo step restores the selection it finds, which should be
   * the layer's. */
  if (done)
    select_layer (image, GIMP_LAYER (target));
  if (!done)
    discard_new_layers (layers);
  else if (!(done = insert_new_layers (image, parent, position, layers, "%s",
                                       error)))
    explain_with_undo (error,
        _("The image was enlarged, but GIMP refused the new layer: %s. %s "
          "gives the image its former size."));
  /* The image's changes are made by now; closing the undo group cannot
   * make them fail. */
  gimp_image_undo_group_end (image);
  show_progress (1.0);
  return done ? layers->result : NULL;
}

static gboolean
copy_color_profile (GimpImage *source, GimpImage *image)
{
  GimpColorProfile *profile = gimp_image_get_color_profile (source);
  gboolean copied = profile == NULL
                    || gimp_image_set_color_profile (image, profile);

  g_clear_object (&profile);
  return copied;
}

/* The layers are made in the target's image, outside it, whatever the
 * output: a new image is made only once they are complete, so neither a
 * failure nor a cancel (which ends the plug-in) leaves anything behind
 * that the user could see.  A new layer keeps the target's offsets,
 * scaled; a new image's layers sit at 0, 0. */
static gboolean
place_new_layers (const RefsrSettings *settings, NewLayers *layers,
                  GError **error)
{
  layers->image = settings->image;
  layers->x = layers->y = 0;
  if (settings->output == OUTPUT_NEW_IMAGE)
    return TRUE;
  if (!gimp_drawable_get_offsets (GIMP_DRAWABLE (settings->target),
                                  &layers->x, &layers->y))
    return refused_by_gimp (error, _("GIMP refused the new layer: %s"));
  layers->x *= settings->scale;
  layers->y *= settings->scale;
  return TRUE;
}

/* A copy of layer (made outside the image) for image, under its name:
 * GIMP shares the pixels' tiles between the two until either changes. */
static GimpLayer *
copy_layer (GimpLayer *layer, GimpImage *image)
{
  GimpLayer *copy = gimp_layer_new_from_drawable (GIMP_DRAWABLE (layer),
                                                  image);
  char *name = gimp_item_get_name (GIMP_ITEM (layer));

  if (copy != NULL && !gimp_item_set_name (GIMP_ITEM (copy), name))
    {
      gimp_item_delete (GIMP_ITEM (copy));
      copy = NULL;
    }
  g_free (name);
  return copy;
}

/* A new image of the result's size, precision and colour profile, with
 * copies of the layers; it starts with a clean undo history. */
static GimpLayer *
apply_as_new_image (const RefsrSettings *settings, NewLayers *layers,
                    GimpRunMode run_mode, GError **error)
{
  const char *failed = _("GIMP could not make the new image: %s");
  GimpImage *source = settings->image;
  GimpDrawable *result = GIMP_DRAWABLE (layers->result);
  GimpImage *image = gimp_image_new_with_precision (
      gimp_drawable_get_width (result), gimp_drawable_get_height (result),
      gimp_image_get_base_type (source), gimp_image_get_precision (source));
  NewLayers copies = { image, NULL, NULL, 0, 0 };
  gboolean ok;

  ok = image != NULL && copy_color_profile (source, image)
       && gimp_image_undo_disable (image)
       && (copies.result = copy_layer (layers->result, image)) != NULL
       && (layers->map == NULL
           || (copies.map = copy_layer (layers->map, image)) != NULL);
  if (!ok)
    {
      refused_by_gimp (error, failed);
      discard_new_layers (&copies);
    }
  discard_new_layers (layers);
  if (ok
      && insert_new_layers (image, NULL, 0, &copies, failed, error)
      && select_layer (image, copies.result)
      && gimp_image_undo_enable (image)
      && (run_mode == GIMP_RUN_NONINTERACTIVE
          || gimp_display_new (image) != NULL))
    return copies.result;
  refused_by_gimp (error, failed);
  if (image != NULL)
    gimp_image_delete (image);
  return NULL;
}

/* Seconds per pixel of the phases besides the engine's, on two cores of
 * the machine the README's figures come from: reading a layer from GIMP,
 * GEGL's resampling into a new layer, and enlarging a layer of the image
 * (its pixels read, enlarged and written back); and the engine's speed,
 * as the dialog's estimate assumes it.  Only their ratios matter. */
#define READ_SECONDS_PER_PIXEL 2e-8
#define RESAMPLE_SECONDS_PER_PIXEL 6e-8
#define ENLARGE_SECONDS_PER_PIXEL 1.5e-7
#define FLOPS_PER_CORE 50e9

/* The pixels enlarging the rest of the image writes (new layer only). */
static gint64
image_pixels (const RefsrSettings *settings)
{
  ImageItems items;
  gint64 pixels;

  if (settings->output != OUTPUT_NEW_LAYER)
    return 0;
  collect_items (settings, &items);
  pixels = items.pixels;
  clear_items (&items);
  return pixels;
}

/* FLOP/s of the engine: as measured on this machine (refsr-speed), else
 * the assumption above. */
static double
engine_speed (const RefsrOptions *options)
{
  double measured = refsr_speed_get ();

  return measured > 0 ? measured
                      : FLOPS_PER_CORE * MAX (options->n_threads, 1);
}

/* Each phase's share of the bar, in proportion to its expected time. */
static void
plan_progress (const RefsrSettings *settings, const RunSizes *sizes,
               const RefsrOptions *options, const RefsrEstimate *estimate,
               RunBar *bar)
{
  double lr = (double) sizes->lr_width * sizes->lr_height;
  double read = lr, enlarged = lr * settings->scale * settings->scale;
  double seconds[5];
  Share *shares[5] = { &bar->read, &bar->engine, &bar->reduce, &bar->map,
                       &bar->image };
  double total = 0.0, at = 0.0;

  for (int i = 0; i < sizes->n_refs; i++)
    read += (double) sizes->refs[i].width * sizes->refs[i].height;
  seconds[0] = read * READ_SECONDS_PER_PIXEL;
  seconds[1] = estimate->flops / engine_speed (options);
  seconds[2] = settings->scale != 4 ? 16 * lr * RESAMPLE_SECONDS_PER_PIXEL : 0;
  seconds[3] = settings->confidence_map
               ? enlarged * RESAMPLE_SECONDS_PER_PIXEL : 0;
  seconds[4] = image_pixels (settings) * ENLARGE_SECONDS_PER_PIXEL;
  bar->engine_flops = estimate->flops;
  for (int i = 0; i < 5; i++)
    total += seconds[i];
  for (int i = 0; i < 5; i++)
    {
      shares[i]->from = total > 0 ? at / total : 0;
      at += seconds[i];
      shares[i]->to = total > 0 ? at / total : 1;
    }
}

/* The whole run.  Every refusal the sizes allow comes before a pixel is
 * read or a layer made; the image is changed only at the very end. */
static GimpLayer *
enlarge (const RefsrSettings *settings, GimpRunMode run_mode, GError **error)
{
  RunSizes sizes;
  RefsrModel *model = NULL;
  RefsrOptions options;
  RefsrEstimate estimate;
  NewLayers layers = { NULL };
  GimpLayer *layer = NULL;
  RunBar bar;
  gboolean ok;

  read_sizes (settings, &sizes);
  init_options (settings, &options);
  ok = check_budget_setting (error)
       && init_search_options (settings, &options, error)
       && check_pool_count (&sizes, error)
       && check_reference_sizes (&sizes, error)
       && check_pixel_limits (&sizes, error)
       && (model = load_model (settings->weights, error)) != NULL
       && check_memory (model, &sizes, &options, &estimate, error);
  if (ok)
    plan_progress (settings, &sizes, &options, &estimate, &bar);
  ok = ok && place_new_layers (settings, &layers, error)
       && (layers.result = new_layer (settings, &layers,
                                      sizes.lr_width * settings->scale,
                                      sizes.lr_height * settings->scale,
                                      FALSE, error)) != NULL
       && fill_new_layers (settings, model, &options, estimate.tile_size,
                           &bar, &layers, error);
  clear_sizes (&sizes);
  refsr_model_free (model);
  if (ok)
    layer = settings->output == OUTPUT_NEW_IMAGE
            ? apply_as_new_image (settings, &layers, run_mode, error)
            : apply_as_new_layer (settings, &layers, &bar, error);
  else
    discard_new_layers (&layers);
  return layer;
}

/* A layer deleted from its image stays a valid item while the undo
 * history holds it: only a layer its image still lists is one to use. */
static gboolean
in_image (GimpItem *item)
{
  GimpImage *image = gimp_item_get_image (item);
  GimpLayer *listed = image != NULL
      ? gimp_image_get_layer_by_tattoo (image, gimp_item_get_tattoo (item))
      : NULL;

  return listed != NULL
         && gimp_item_get_id (GIMP_ITEM (listed)) == gimp_item_get_id (item);
}

/* Whether item is the layer called name with this tattoo. */
static gboolean
is_remembered_layer (GimpItem *item, int tattoo, const char *name)
{
  char *item_name;
  gboolean same;

  if (item == NULL || !GIMP_IS_LAYER (item) || gimp_item_is_group (item)
      || (int) gimp_item_get_tattoo (item) != tattoo || !in_image (item))
    return FALSE;
  item_name = gimp_item_get_name (item);
  same = g_strcmp0 (item_name, name) == 0;
  g_free (item_name);
  return same;
}

/* After a restart of GIMP the ID names another item or none, but a layer
 * of a reopened XCF keeps its tattoo; an image of the same name wins
 * over others that happen to hold a layer of that tattoo and name. */
static GimpLayer *
find_by_tattoo (int tattoo, const char *name, const char *image_name)
{
  GimpImage **images = gimp_get_images ();
  GimpLayer *found = NULL;

  for (int i = 0; tattoo > 0 && images != NULL && images[i] != NULL; i++)
    {
      GimpLayer *layer = gimp_image_get_layer_by_tattoo (images[i], tattoo);
      char *this_name;

      if (!is_remembered_layer (GIMP_ITEM (layer), tattoo, name))
        continue;
      this_name = gimp_image_get_name (images[i]);
      if (found == NULL || g_strcmp0 (this_name, image_name) == 0)
        found = layer;
      g_free (this_name);
    }
  g_free (images);
  return found;
}

/* The remembered layer while it is open, else NULL. */
static GimpLayer *
find_remembered (int id, int tattoo, const char *name,
                 const char *image_name)
{
  GimpItem *item = id > 0 && gimp_item_id_is_valid (id)
                   ? gimp_item_get_by_id (id) : NULL;

  if (is_remembered_layer (item, tattoo, name))
    return GIMP_LAYER (item);
  return find_by_tattoo (tattoo, name, image_name);
}

/* What a run with remembered values tells the user when the remembered
 * reference is gone: proposed (how refsr_default_reference chose it) goes
 * into the dialog; a repeat, which shows none, says what it used. */
static char *
fallback_note (GimpRunMode run_mode, const char *lost, GimpLayer *proposed,
               const char *why)
{
  char *name, *note;

  if (run_mode == GIMP_RUN_INTERACTIVE)
    return g_strdup_printf (_("The reference used last time, “%s”, is no "
                              "longer open. %s"), lost, why);
  if (proposed == NULL)
    return g_strdup_printf (_("The reference used last time, “%s”, is no "
                              "longer open; this run used the layer as its "
                              "own reference."), lost);
  name = gimp_item_get_name (GIMP_ITEM (proposed));
  note = g_strdup_printf (_("The reference used last time, “%s”, is no "
                            "longer open; this run used “%s” instead."),
                          lost, name);
  g_free (name);
  return note;
}

/* The reference of an INTERACTIVE or WITH_LAST_VALS run: the one the last
 * interactive run used while it is open (none, if it had none), else the
 * proposed one.  *note receives what the user should be told, or NULL. */
static GimpLayer *
choose_reference (GimpProcedureConfig *config, GimpDrawable *target,
                  GimpRunMode run_mode, char **note)
{
  gboolean remembered = FALSE;
  int id = 0, tattoo = 0;
  char *name = NULL, *image_name = NULL, *why = NULL;
  GimpLayer *layer = NULL;

  *note = NULL;
  g_object_get (config, LAST_REFERENCE_SET, &remembered,
                LAST_REFERENCE_ID, &id, LAST_REFERENCE_TATTOO, &tattoo,
                LAST_REFERENCE_NAME, &name,
                LAST_REFERENCE_IMAGE, &image_name, NULL);
  if (remembered && name != NULL && *name != '\0')
    layer = find_remembered (id, tattoo, name, image_name);
  if (layer == NULL && !(remembered && (name == NULL || *name == '\0')))
    {
      layer = refsr_default_reference (target, &why);
      if (remembered)
        *note = fallback_note (run_mode, name, layer, why);
      else if (run_mode == GIMP_RUN_INTERACTIVE)
        *note = g_strdup (why);
    }
  g_free (why);
  g_free (name);
  g_free (image_name);
  return layer;
}

/* Stores the run's reference for the next INTERACTIVE or WITH_LAST_VALS
 * run (GIMP saves the values after a successful interactive run). */
static void
remember_reference (GimpProcedureConfig *config)
{
  GimpLayer *layer = NULL;
  GimpItem *item;
  char *name = NULL, *image_name = NULL;

  g_object_get (config, "reference-layer", &layer, NULL);
  item = layer != NULL ? GIMP_ITEM (layer) : NULL;
  if (item != NULL)
    {
      GimpImage *image = gimp_item_get_image (item);

      name = gimp_item_get_name (item);
      image_name = image != NULL ? gimp_image_get_name (image) : NULL;
    }
  g_object_set (config, LAST_REFERENCE_SET, TRUE,
                LAST_REFERENCE_ID, item != NULL ? gimp_item_get_id (item) : 0,
                LAST_REFERENCE_TATTOO,
                item != NULL ? (int) gimp_item_get_tattoo (item) : 0,
                LAST_REFERENCE_NAME, name != NULL ? name : "",
                LAST_REFERENCE_IMAGE, image_name != NULL ? image_name : "",
                NULL);
  g_free (name);
  g_free (image_name);
  g_clear_object (&layer);
}

/* The documented test hook (tests/plugin/test-repeat.sh): headless GIMP
 * has no display for the dialog, and saves last values only after an
 * interactive run. */
static gboolean
dialog_accepted_for_tests (void)
{
  return g_strcmp0 (g_getenv ("REFSR_TEST_ACCEPT_DIALOG"), "1") == 0;
}

/* The dialog, opened with the values the run will have but for the tile
 * size, which it takes from its own setting; FALSE: cancelled. */
static gboolean
ask_user (GimpProcedure *procedure, GimpProcedureConfig *config,
          GimpDrawable *target, const char *note)
{
  RefsrSettings none = { NULL };
  RefsrOptions options;

  if (dialog_accepted_for_tests ())
    return TRUE;
  gimp_ui_init (PLUG_IN_BINARY);
  init_options (&none, &options);
  return refsr_dialog_run (procedure, config, target, &options, note);
}

/* Edit ▸ Undo of the new layer gives back the layers selected when it was
 * added: the layer that was enlarged, whatever else the user clicked on
 * meanwhile. */
static void
select_target (const RefsrSettings *settings)
{
  const GimpLayer *layers[] = { settings->target, NULL };

  if (settings->output == OUTPUT_NEW_LAYER)
    gimp_image_set_selected_layers (settings->image, layers);
}

static GimpValueArray *
refsr_plug_in_run (GimpProcedure *procedure, GimpRunMode run_mode,
                   GimpImage *image, GimpDrawable **drawables,
                   GimpProcedureConfig *config, gpointer run_data)
{
  RefsrSettings settings = { NULL };
  GimpLayer *layer = NULL;
  GError *error = NULL;
  GimpValueArray *values;
  char *note = NULL;
  gboolean accepted;

  gegl_init (NULL, NULL);
  limit_gegl_cache ();
  if (!check_target (image, drawables, &error))
    return gimp_procedure_new_return_values (procedure,
                                             GIMP_PDB_EXECUTION_ERROR, error);
  /* GIMP restores no layer from the last values: the reference is
   * looked up again.  A script's unset reference means self-reference. */
  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    g_object_set (config, "reference-layer",
                  choose_reference (config, drawables[0], run_mode, &note),
                  NULL);
  if (run_mode == GIMP_RUN_INTERACTIVE)
    {
      accepted = ask_user (procedure, config, drawables[0], note);
      g_free (note);
      if (!accepted)
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL,
                                                 NULL);
      remember_reference (config);
    }
  else if (note != NULL)
    {
      gimp_message (note);
      g_free (note);
    }
  read_settings (config, image, GIMP_LAYER (drawables[0]), &settings);
  if (check_parents_unlocked (&settings, &error))
    {
      select_target (&settings);
      layer = enlarge (&settings, run_mode, &error);
      /* not the hidden confidence map, which GIMP selected last */
      if (layer != NULL && settings.output == OUTPUT_NEW_LAYER)
        select_layer (image, layer);
    }
  clear_settings (&settings);
  gimp_progress_end ();
  if (layer == NULL)
    return gimp_procedure_new_return_values (procedure,
                                             GIMP_PDB_EXECUTION_ERROR, error);
  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();
  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (values, 1, layer);
  return values;
}
