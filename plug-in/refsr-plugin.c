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

/* The share of the progress bar the engine fills (its tiles are written
 * into the layer as they come, within that share); the rest is GEGL's
 * reduction for 2x and 3x and the confidence map. */
#define ENGINE_PROGRESS 0.9

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
      _("R_eference layer"),
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
  gimp_procedure_add_choice_argument (procedure, "search", _("Searc_h"),
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
      _("Reference sca_les"),
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
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("Indexed images cannot be enlarged: convert the image to RGB "
            "or grayscale first (Image ▸ Mode)."));
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

/* The engine's messages are English and name its internals; the user
 * reads a translated sentence saying what went wrong and what to do, with
 * the engine's text kept after it as detail. */
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
      return _("Not enough memory; enlarge a smaller part of the layer "
               "(select the part, then Image ▸ Crop to Selection) or use a "
               "smaller reference: %s");
    case REFSR_ERROR_IO:
      return _("The weights file could not be read; check that it exists "
               "and that you may read it: %s");
    default:
      return _("Enlarging failed: %s");
    }
}

static void
explain_engine_error (GError *error)
{
  char *message;

  if (error == NULL || error->domain != REFSR_ERROR)
    return;
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
            "installed (%s).  Choose a TTSR weights file (.safetensors "
            "or the official .pt checkpoint) as “Weights file”."),
          missing->message);
      g_error_free (missing);
      return NULL;
    }
  model = refsr_model_load (path, error);
  g_free (path);
  if (model == NULL && error != NULL)
    explain_engine_error (*error);
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
        "%d can be searched at once.  Hide the layers that should not "
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
          "at least %d × %d.  Choose a larger reference layer."),
        sizes->ref_names[i], ref->width, ref->height,
        REFERENCE_MIN_SIDE, REFERENCE_MIN_SIDE);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The layer is %d × %d pixels; to serve as its own reference it "
          "must be at least %d × %d.  Choose a reference layer."),
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
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The reference layer “%s” is %d × %d pixels (%s megapixels); a "
          "reference may have at most %s megapixels.  Make it smaller "
          "(Layer ▸ Scale Layer… in its image) or choose another "
          "reference layer."),
        sizes->ref_names[i], ref->width, ref->height, size, limit);
  else
    /* a layer the engine can enlarge, but too large to be its own
     * reference (the reference's limit is the smaller one) */
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The layer is %d × %d pixels (%s megapixels); to serve as its "
          "own reference it may have at most %s megapixels.  Choose a "
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
  char *size, *limit;

  if (lr_pixels > REFSR_MAX_LR_PIXELS)
    {
      size = megapixels (lr_pixels, TRUE);
      limit = megapixels (REFSR_MAX_LR_PIXELS, FALSE);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("The layer is %d × %d pixels (%s megapixels); the filter "
            "enlarges layers of at most %s megapixels.  Enlarge a part of "
            "it (select the part, then Image ▸ Crop to Selection) or make "
            "it smaller first (Layer ▸ Scale Layer…)."),
          sizes->lr_width, sizes->lr_height, size, limit);
      g_free (size);
      g_free (limit);
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
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer with the %d × %d reference layer "
          "“%s” needs more memory than the %s this filter allows itself "
          "(%s), even in the smallest tiles; the layer alone would fit.  "
          "Make the reference smaller (Layer ▸ Scale Layer… in its image) "
          "or choose a smaller reference layer: %s"),
        sizes->lr_width, sizes->lr_height, sizes->refs[0].width,
        sizes->refs[0].height,
        sizes->ref_names[0] ? sizes->ref_names[0] : sizes->name,
        budget_text, why, detail);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer with %d reference layers needs more "
          "memory than the %s this filter allows itself (%s), even in the "
          "smallest tiles; the layer alone would fit.  Use fewer or smaller "
          "references (hide layers, or uncheck “Use all visible layers as "
          "references”): %s"),
        sizes->lr_width, sizes->lr_height, sizes->n_refs, budget_text, why,
        detail);
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
          "memory than the %s this filter allows itself (%s).  Choose a "
          "smaller tile size, or 0 to let the filter choose tiles that "
          "fit: %s"),
        sizes->lr_width, sizes->lr_height, options->tile_size, budget_text,
        why, detail->message);
  else if (fits_budget (&config, sizes, smallest, 0, budget, &other, &unused,
                        NULL))
    set_reference_memory_error (sizes, budget_text, why, detail->message,
                                error);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer needs more memory than the %s this "
          "filter allows itself (%s), even in the smallest tiles and with "
          "the smallest reference.  Enlarge a part of the layer (select "
          "the part, then Image ▸ Crop to Selection) or make it smaller "
          "first (Layer ▸ Scale Layer…): %s"),
        sizes->lr_width, sizes->lr_height, budget_text, why,
        detail->message);
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
  double shown;             /* the fraction last shown */
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
    gimp_progress_set_text (text);
  g_free (sink->text);
  sink->text = text;
}

static void
report_progress (double fraction, const char *stage, void *data)
{
  TileSink *sink = data;

  sink->stage = stage;
  show_stage (sink);
  /* Each update is a message to GIMP: a thousand steps are plenty. */
  fraction *= ENGINE_PROGRESS;
  if (fraction - sink->shown >= 0.001 || fraction >= ENGINE_PROGRESS)
    {
      gimp_progress_update (fraction);
      sink->shown = fraction;
    }
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

  for (int i = 0; i < n_refs; i++)
    ref_images[i] = (RefsrImage) { refs[i].rgb, refs[i].width,
                                   refs[i].height, refs[i].width * 3 };
  options->progress = report_progress;
  options->progress_data = sink;
  options->tile_data = sink;
  result = refsr_run_pool (model, &lr_image, ref_images, n_refs, options,
                           error);
  g_free (ref_images);
  if (result == NULL && error != NULL && !sink->failed)
    explain_engine_error (*error);
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
                     NewLayers *layers, GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  int width = gimp_drawable_get_width (GIMP_DRAWABLE (layers->result));
  int height = gimp_drawable_get_height (GIMP_DRAWABLE (layers->result));
  GeglBuffer *confidence;
  RefsrGeglWriter *writer = NULL;
  gboolean ok;

  confidence = refsr_gegl_result_confidence (result,
                                             refsr_gegl_space_of (target),
                                             error);
  ok = confidence != NULL
       && (layers->map = new_layer (settings, layers, width, height, TRUE,
                                    error)) != NULL
       && (writer = refsr_gegl_writer_new (layers->map, target, error)) != NULL
       && refsr_gegl_writer_put_resampled (writer, confidence, 0.97, 1.0,
                                           error);
  refsr_gegl_writer_free (writer);
  g_clear_object (&confidence);
  return ok;
}

/* Reads the pixels, runs the engine with its tiles going into the result
 * layer (through a 4x buffer for 2x and 3x), then adds the confidence
 * map.  The layers are not in the image yet. */
static gboolean
fill_new_layers (const RefsrSettings *settings, const RefsrModel *model,
                 RefsrOptions *options, int tile_size, NewLayers *layers,
                 GError **error)
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
  gimp_progress_init (_("Reference super-resolution"));
  ok = (sink.writer = refsr_gegl_writer_new (layers->result, target,
                                             error)) != NULL
       && refsr_gegl_read_rgb (target, target, &lr, error);
  for (int i = 0; ok && i < settings->n_refs; i++)
    ok = refsr_gegl_read_rgb (settings->pool[i], target, &refs[i], error);
  ok = ok && (result = run_engine (model, &lr, refs, settings->n_refs,
                                   options, &sink, error)) != NULL;
  refsr_gegl_pixels_clear (&lr);
  for (int i = 0; i < settings->n_refs; i++)
    refsr_gegl_pixels_clear (&refs[i]);
  g_free (refs);
  if (ok && sink.enlarged != NULL)
    {
      gimp_progress_set_text (_("Reducing the enlarged image"));
      ok = refsr_gegl_writer_put_resampled (sink.writer, sink.enlarged,
                                            ENGINE_PROGRESS, 0.97, error);
    }
  clear_sink (&sink);
  if (ok && settings->confidence_map)
    ok = fill_confidence_map (settings, result, layers, error);
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

/* Enlarges the whole image, so the other layers line up with the result. */
static gboolean
scale_image (GimpImage *image, int scale, GError **error)
{
  gboolean scaled;

  if (!gimp_context_push ())
    return refused_by_gimp (error, _("GIMP could not enlarge the image: %s"));
  scaled = gimp_context_set_interpolation (GIMP_INTERPOLATION_NOHALO)
           && gimp_image_scale (image, gimp_image_get_width (image) * scale,
                                gimp_image_get_height (image) * scale);
  if (!scaled)
    refused_by_gimp (error, _("GIMP could not enlarge the image: %s"));
  /* A context the plug-in pushed goes with the plug-in's call when it
   * returns, so a failed pop is no reason to fail an enlarged image. */
  gimp_context_pop ();
  return scaled;
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
              "locked, so the enlarged layer cannot be added beside it.  "
              "Unlock the group’s pixels in the Layers dialog, or choose "
              "“New image” as Output."),
            name);
        g_free (name);
        return FALSE;
      }
  return TRUE;
}

/* Everything that can fail (making and filling the layers, scaling the
 * image) comes before the only steps left, inserting the layers; the
 * scale is one step of the undo group, so a failed insert leaves an image
 * that Edit ▸ Undo restores. */
static GimpLayer *
apply_as_new_layer (const RefsrSettings *settings, NewLayers *layers,
                    GError **error)
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
  done = scale_image (image, settings->scale, error);
  if (!done)
    discard_new_layers (layers);
  else
    done = insert_new_layers (image, parent, position, layers,
        _("The image was enlarged, but GIMP refused the new layer: %s.  "
          "Edit ▸ Undo gives the image its former size."), error);
  /* The image's changes are made by now; closing the undo group cannot
   * make them fail. */
  gimp_image_undo_group_end (image);
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

/* GIMP selects each layer it inserts, the hidden confidence map last;
 * the user wants to see and work on the result. */
static gboolean
select_layer (GimpImage *image, GimpLayer *layer)
{
  const GimpLayer *layers[] = { layer, NULL };

  return gimp_image_set_selected_layers (image, layers);
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
  gboolean ok;

  read_sizes (settings, &sizes);
  init_options (settings, &options);
  ok = check_budget_setting (error)
       && init_search_options (settings, &options, error)
       && check_pool_count (&sizes, error)
       && check_reference_sizes (&sizes, error)
       && check_pixel_limits (&sizes, error)
       && (model = load_model (settings->weights, error)) != NULL
       && check_memory (model, &sizes, &options, &estimate, error)
       && place_new_layers (settings, &layers, error)
       && (layers.result = new_layer (settings, &layers,
                                      sizes.lr_width * settings->scale,
                                      sizes.lr_height * settings->scale,
                                      FALSE, error)) != NULL
       && fill_new_layers (settings, model, &options, estimate.tile_size,
                           &layers, error);
  clear_sizes (&sizes);
  refsr_model_free (model);
  if (ok)
    layer = settings->output == OUTPUT_NEW_IMAGE
            ? apply_as_new_image (settings, &layers, run_mode, error)
            : apply_as_new_layer (settings, &layers, error);
  else
    discard_new_layers (&layers);
  return layer;
}

/* Whether item is the layer called name with this tattoo. */
static gboolean
is_remembered_layer (GimpItem *item, int tattoo, const char *name)
{
  char *item_name;
  gboolean same;

  if (item == NULL || !GIMP_IS_LAYER (item) || gimp_item_is_group (item)
      || (int) gimp_item_get_tattoo (item) != tattoo)
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
                              "longer open.  %s"), lost, why);
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
