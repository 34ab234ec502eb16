/* refsr-plugin.c — the GIMP 3 plug-in: registers plug-in-refsr
 * (Filters ▸ Enhance ▸ Reference Super-Resolution…), runs the engine on the
 * chosen layer and puts the result into the image as one undo step.
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

#define PLUG_IN_PROC   "plug-in-refsr"
#define PLUG_IN_BINARY "refsr"

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
} RefsrSettings;

/* The finished pixels, all of the output size, before the image is
 * touched: everything that can fail happens before any change. */
typedef struct
{
  GeglBuffer *color;
  GeglBuffer *alpha;       /* NULL when the target has no alpha */
  GeglBuffer *confidence;  /* NULL unless confidence-map */
} RefsrOutput;

typedef struct
{
  const char *stage;
} ProgressState;

/* The share of the progress bar the engine fills; the rest is GEGL's
 * resampling and writing the layers. */
#define ENGINE_PROGRESS 0.9

#define REFSR_TYPE_PLUG_IN (refsr_plug_in_get_type ())
G_DECLARE_FINAL_TYPE (RefsrPlugIn, refsr_plug_in, REFSR, PLUG_IN, GimpPlugIn)

struct _RefsrPlugIn
{
  GimpPlugIn parent_instance;
};

G_DEFINE_TYPE (RefsrPlugIn, refsr_plug_in, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (REFSR_TYPE_PLUG_IN)

/* The memory a run may use without tiling: half of the machine's RAM, so
 * that GIMP itself and the system keep room; REFSR_MEMORY_BUDGET_MIB
 * overrides it (README.md).  why (may be NULL) receives where the number
 * comes from, for messages. */
static guint64
memory_budget (const char **why)
{
  const char *override = g_getenv ("REFSR_MEMORY_BUDGET_MIB");

  if (override != NULL && *override != '\0')
    {
      if (why != NULL)
        *why = _("the limit set by REFSR_MEMORY_BUDGET_MIB");
      return g_ascii_strtoull (override, NULL, 10) << 20;
    }
  if (why != NULL)
    *why = _("half of the computer's memory");
  return refsr_physical_memory () / 2;
}

static GList *
refsr_plug_in_query_procedures (GimpPlugIn *plug_in)
{
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

/* "tile-size" is part of the interface already (issue 3), so scripts
 * written now keep working when tiling arrives; nothing reads it yet and
 * the dialog does not show it. */
static void
add_arguments (GimpProcedure *procedure)
{
  gimp_procedure_add_layer_argument (procedure, "reference-layer",
      _("R_eference layer"),
      _("A sharp photo of the same scene or material; none: the layer is "
        "its own reference"),
      TRUE, G_PARAM_READWRITE);
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
      _("Reserved for tiled processing of very large layers, which comes "
        "in a later version.  For now 0 (automatic) is the only behaviour: "
        "the layer is processed whole, whatever the value"),
      0, 65536, 0, G_PARAM_READWRITE);
  gimp_procedure_add_layer_return_value (procedure, "layer", _("Layer"),
      _("The enlarged layer"), FALSE, G_PARAM_READWRITE);
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
                NULL);
  settings->scale = gimp_procedure_config_get_choice_id (config, "scale");
  settings->output = gimp_procedure_config_get_choice_id (config, "output");
  if (settings->reference == target)
    g_clear_object (&settings->reference);
}

static void
clear_settings (RefsrSettings *settings)
{
  g_clear_object (&settings->reference);
  g_clear_object (&settings->weights);
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

/* The sizes of the layer and its reference as GIMP knows them: everything
 * about them is checked before a pixel is read or a buffer allocated. */
typedef struct
{
  int lr_width, lr_height;
  int ref_width, ref_height;
  char *name;       /* the layer's name */
  char *ref_name;   /* the reference layer's name; NULL: the layer */
} RunSizes;

static void
read_sizes (const RefsrSettings *settings, RunSizes *sizes)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  GimpDrawable *reference = settings->reference
                            ? GIMP_DRAWABLE (settings->reference) : target;

  sizes->lr_width = gimp_drawable_get_width (target);
  sizes->lr_height = gimp_drawable_get_height (target);
  sizes->ref_width = gimp_drawable_get_width (reference);
  sizes->ref_height = gimp_drawable_get_height (reference);
  /* gimp_item_get_name returns a copy */
  sizes->name = gimp_item_get_name (GIMP_ITEM (target));
  sizes->ref_name = settings->reference
      ? gimp_item_get_name (GIMP_ITEM (settings->reference)) : NULL;
}

static void
clear_sizes (RunSizes *sizes)
{
  g_clear_pointer (&sizes->name, g_free);
  g_clear_pointer (&sizes->ref_name, g_free);
}

/* refsr_run refuses a smaller reference; checked here as well so that the
 * message says which layer is too small and what to do about it. */
#define REFERENCE_MIN_SIDE 4

static gboolean
check_reference_size (const RunSizes *sizes, GError **error)
{
  if (sizes->ref_width >= REFERENCE_MIN_SIDE
      && sizes->ref_height >= REFERENCE_MIN_SIDE)
    return TRUE;
  if (sizes->ref_name != NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The reference layer “%s” is %d × %d pixels; a reference must be "
          "at least %d × %d.  Choose a larger reference layer."),
        sizes->ref_name, sizes->ref_width, sizes->ref_height,
        REFERENCE_MIN_SIDE, REFERENCE_MIN_SIDE);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
        _("The layer is %d × %d pixels; to serve as its own reference it "
          "must be at least %d × %d.  Choose a reference layer."),
        sizes->lr_width, sizes->lr_height, REFERENCE_MIN_SIDE,
        REFERENCE_MIN_SIDE);
  return FALSE;
}

/* Megapixels with two decimals, rounded up for a size and down for a
 * limit, so that a size over the limit never reads as equal to it. */
static char *
megapixels (gint64 pixels, gboolean round_up)
{
  gint64 hundredths = round_up ? (pixels + 9999) / 10000 : pixels / 10000;

  return g_strdup_printf ("%.2f", (double) hundredths / 100.0);
}

/* The engine's own limits (refsr.h), which it would otherwise report only
 * once both layers had been read. */
static gboolean
check_pixel_limits (const RunSizes *sizes, GError **error)
{
  gint64 lr_pixels = (gint64) sizes->lr_width * sizes->lr_height;
  gint64 ref_pixels = (gint64) sizes->ref_width * sizes->ref_height;
  char *size, *limit;

  if (lr_pixels > REFSR_MAX_LR_PIXELS)
    {
      size = megapixels (lr_pixels, TRUE);
      limit = megapixels (REFSR_MAX_LR_PIXELS, FALSE);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("The layer is %d × %d pixels (%s megapixels); the network "
            "enlarges at most %s megapixels at a time.  Enlarge a part of "
            "it (select the part, then Image ▸ Crop to Selection) or make "
            "it smaller first (Layer ▸ Scale Layer…)."),
          sizes->lr_width, sizes->lr_height, size, limit);
    }
  else if (ref_pixels > REFSR_MAX_REF_PIXELS)
    {
      /* only a reference layer can get here: the layer itself, as its own
       * reference, was refused above */
      size = megapixels (ref_pixels, TRUE);
      limit = megapixels (REFSR_MAX_REF_PIXELS, FALSE);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
          _("The reference layer “%s” is %d × %d pixels (%s megapixels); a "
            "reference may have at most %s megapixels.  Make it smaller "
            "(Layer ▸ Scale Layer… in its image) or choose another "
            "reference layer."),
          sizes->ref_name ? sizes->ref_name : "", sizes->ref_width,
          sizes->ref_height, size, limit);
    }
  else
    return TRUE;
  g_free (size);
  g_free (limit);
  return FALSE;
}

/* The run's memory, estimated from the sizes alone.  The message says
 * which size is the problem: the layer, when even the smallest reference
 * would not fit (only a smaller layer helps), or else the reference. */
static gboolean
check_memory (const RefsrModel *model, const RunSizes *sizes, GError **error)
{
  RefsrConfig config;
  const char *why;
  guint64 needed, alone, budget = memory_budget (&why);
  char *needed_text, *budget_text;

  refsr_model_get_config (model, &config);
  needed = refsr_estimate_memory (&config, sizes->lr_width, sizes->lr_height,
                                  sizes->ref_width, sizes->ref_height);
  if (needed <= budget)
    return TRUE;
  alone = refsr_estimate_memory (&config, sizes->lr_width, sizes->lr_height,
                                 REFERENCE_MIN_SIDE, REFERENCE_MIN_SIDE);
  needed_text = g_format_size (needed);
  budget_text = g_format_size (budget);
  if (alone > budget)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer needs about %s of memory, more than "
          "the %s this filter allows itself (%s), even with the smallest "
          "reference.  Tiled processing is not available yet: enlarge a "
          "part of the layer (select the part, then Image ▸ Crop to "
          "Selection) or make it smaller first (Layer ▸ Scale Layer…)."),
        sizes->lr_width, sizes->lr_height, needed_text, budget_text, why);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
        _("Enlarging this %d × %d layer with the %d × %d reference layer "
          "“%s” needs about %s of memory, more than the %s this filter "
          "allows itself (%s); the layer alone would fit.  Make the "
          "reference smaller (Layer ▸ Scale Layer… in its image) or choose "
          "a smaller reference layer."),
        sizes->lr_width, sizes->lr_height, sizes->ref_width,
        sizes->ref_height, sizes->ref_name ? sizes->ref_name : sizes->name,
        needed_text, budget_text, why);
  g_free (needed_text);
  g_free (budget_text);
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

static void
report_progress (double fraction, const char *stage, void *data)
{
  ProgressState *state = data;

  if (g_strcmp0 (stage, state->stage) != 0)
    {
      state->stage = stage;
      gimp_progress_set_text (stage_text (stage));
    }
  gimp_progress_update (fraction * ENGINE_PROGRESS);
}

/* GIMP's Cancel button on a plug-in's progress ends the plug-in's process
 * (app/plug-in/gimpplugin-progress.c), so no cancel flag reaches the
 * engine from here; what makes a cancel harmless is that the image is
 * changed only after the engine has finished. */
static RefsrResult *
run_engine (const RefsrModel *model, const RefsrGeglPixels *lr,
            const RefsrGeglPixels *ref, GError **error)
{
  RefsrImage lr_image = { lr->rgb, lr->width, lr->height, lr->width * 3 };
  RefsrImage ref_image = { ref->rgb, ref->width, ref->height, ref->width * 3 };
  RefsrOptions options = REFSR_OPTIONS_INIT;
  ProgressState state = { NULL };
  RefsrResult *result;

  options.n_threads = gimp_get_num_processors ();
  options.progress = report_progress;
  options.progress_data = &state;
  gimp_progress_init (_("Reference super-resolution"));
  result = refsr_run (model, &lr_image, &ref_image, &options, error);
  if (result == NULL && error != NULL)
    explain_engine_error (*error);
  return result;
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

/* Replaces *buffer by its resampling to width x height. */
static gboolean
resample_in_place (GeglBuffer **buffer, int width, int height, GError **error)
{
  GeglBuffer *resampled;

  if (gegl_buffer_get_width (*buffer) == width
      && gegl_buffer_get_height (*buffer) == height)
    return TRUE;
  resampled = refsr_gegl_resample (*buffer, width, height, error);
  g_object_unref (*buffer);
  *buffer = resampled;
  return resampled != NULL;
}

static gboolean
make_output (const RefsrResult *result, const RefsrSettings *settings,
             RefsrOutput *output, GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  const Babl *space = refsr_gegl_space_of (target);
  int width = result->lr_width * settings->scale;
  int height = result->lr_height * settings->scale;
  gboolean exact_u8 = settings->scale == 4 && is_8_bit (settings->image);

  output->color = refsr_gegl_result_color (result, space, exact_u8, error);
  if (output->color == NULL
      || !resample_in_place (&output->color, width, height, error))
    return FALSE;
  gimp_progress_update (ENGINE_PROGRESS + 0.03);
  if (gimp_drawable_has_alpha (target))
    {
      output->alpha = refsr_gegl_read_alpha (target, error);
      if (output->alpha == NULL
          || !resample_in_place (&output->alpha, width, height, error))
        return FALSE;
    }
  gimp_progress_update (ENGINE_PROGRESS + 0.06);
  if (settings->confidence_map)
    {
      output->confidence = refsr_gegl_result_confidence (result, space, error);
      if (output->confidence == NULL
          || !resample_in_place (&output->confidence, width, height, error))
        return FALSE;
    }
  return TRUE;
}

static void
clear_output (RefsrOutput *output)
{
  g_clear_object (&output->color);
  g_clear_object (&output->alpha);
  g_clear_object (&output->confidence);
}

/* All the work that does not touch the image. */
static gboolean
compute_output (const RefsrSettings *settings, RefsrOutput *output,
                GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  GimpDrawable *reference = settings->reference
                            ? GIMP_DRAWABLE (settings->reference) : target;
  RefsrGeglPixels lr = { NULL }, ref = { NULL };
  RunSizes sizes;
  RefsrModel *model;
  RefsrResult *result = NULL;
  gboolean ok = FALSE;

  /* Every refusal the sizes allow comes before a pixel is read: the
   * pixel buffers of a layer too large would be the first to fail. */
  read_sizes (settings, &sizes);
  if (!check_reference_size (&sizes, error)
      || !check_pixel_limits (&sizes, error))
    {
      clear_sizes (&sizes);
      return FALSE;
    }
  model = load_model (settings->weights, error);
  if (model != NULL
      && check_memory (model, &sizes, error)
      && refsr_gegl_read_rgb (target, target, &lr, error)
      && refsr_gegl_read_rgb (reference, target, &ref, error))
    result = run_engine (model, &lr, &ref, error);
  clear_sizes (&sizes);
  refsr_gegl_pixels_clear (&lr);
  refsr_gegl_pixels_clear (&ref);
  if (result != NULL)
    ok = make_output (result, settings, output, error);
  refsr_result_free (result);
  if (model != NULL)
    refsr_model_free (model);
  return ok;
}

static char *
layer_name (const RefsrSettings *settings, gboolean confidence)
{
  char *reference = settings->reference
      ? gimp_item_get_name (GIMP_ITEM (settings->reference)) : NULL;
  char *name;

  if (confidence)
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
 * the image has been changed. */
typedef struct
{
  GimpLayer *result;
  GimpLayer *map;        /* NULL unless confidence-map */
} NewLayers;

static GimpLayer *
new_filled_layer (GimpImage *image, const RefsrSettings *settings,
                  GeglBuffer *color, GeglBuffer *alpha, gboolean confidence,
                  int x, int y, GError **error)
{
  GimpDrawable *target = GIMP_DRAWABLE (settings->target);
  GimpImageType type = gimp_drawable_type (target);
  char *name = layer_name (settings, confidence);
  GimpLayer *layer;

  if (confidence)
    type = gimp_drawable_is_gray (target) ? GIMP_GRAY_IMAGE : GIMP_RGB_IMAGE;
  layer = gimp_layer_new (image, name, gegl_buffer_get_width (color),
                          gegl_buffer_get_height (color), type, 100.0,
                          gimp_image_get_default_new_layer_mode (image));
  g_free (name);
  if (layer == NULL)
    {
      refused_by_gimp (error, _("GIMP refused the new layer: %s"));
      return NULL;
    }
  if (!gimp_layer_set_offsets (layer, x, y)
      || (confidence && !gimp_item_set_visible (GIMP_ITEM (layer), FALSE))
      || !refsr_gegl_write_layer (layer, color, alpha,
                                  refsr_gegl_space_of (target), error))
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

static gboolean
make_new_layers (GimpImage *image, const RefsrSettings *settings,
                 const RefsrOutput *output, int x, int y, NewLayers *layers,
                 GError **error)
{
  layers->result = new_filled_layer (image, settings, output->color,
                                     output->alpha, FALSE, x, y, error);
  if (layers->result == NULL)
    return FALSE;
  if (output->confidence == NULL)
    return TRUE;
  layers->map = new_filled_layer (image, settings, output->confidence, NULL,
                                  TRUE, x, y, error);
  if (layers->map == NULL)
    {
      discard_new_layers (layers);
      return FALSE;
    }
  return TRUE;
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
apply_as_new_layer (const RefsrSettings *settings, RefsrOutput *output,
                    GError **error)
{
  GimpImage *image = settings->image;
  GimpItem *target = GIMP_ITEM (settings->target);
  GimpLayer *parent = GIMP_LAYER (gimp_item_get_parent (target));
  int position = gimp_image_get_item_position (image, target);
  int s = settings->scale, x, y;
  NewLayers layers = { NULL, NULL };
  gboolean done;

  if (!gimp_drawable_get_offsets (GIMP_DRAWABLE (target), &x, &y))
    {
      refused_by_gimp (error, _("GIMP refused the new layer: %s"));
      return NULL;
    }
  if (!make_new_layers (image, settings, output, x * s, y * s, &layers,
                        error))
    return NULL;
  if (!gimp_image_undo_group_start (image))
    {
      refused_by_gimp (error, _("GIMP could not enlarge the image: %s"));
      discard_new_layers (&layers);
      return NULL;
    }
  done = scale_image (image, s, error);
  if (!done)
    discard_new_layers (&layers);
  else
    done = insert_new_layers (image, parent, position, &layers,
        _("The image was enlarged, but GIMP refused the new layer: %s.  "
          "Edit ▸ Undo gives the image its former size."), error);
  /* The image's changes are made by now; closing the undo group cannot
   * make them fail. */
  gimp_image_undo_group_end (image);
  return done ? layers.result : NULL;
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

static GimpLayer *
apply_as_new_image (const RefsrSettings *settings, RefsrOutput *output,
                    GimpRunMode run_mode, GError **error)
{
  const char *failed = _("GIMP could not make the new image: %s");
  GimpImage *source = settings->image;
  GimpImage *image = gimp_image_new_with_precision (
      gegl_buffer_get_width (output->color),
      gegl_buffer_get_height (output->color),
      gimp_image_get_base_type (source), gimp_image_get_precision (source));
  NewLayers layers = { NULL, NULL };

  if (image == NULL)
    {
      refused_by_gimp (error, failed);
      return NULL;
    }
  /* Without undo, the new image starts with a clean undo history. */
  if (!copy_color_profile (source, image)
      || !gimp_image_undo_disable (image)
      || !make_new_layers (image, settings, output, 0, 0, &layers, error)
      || !insert_new_layers (image, NULL, 0, &layers, failed, error)
      || !gimp_image_undo_enable (image)
      || (run_mode != GIMP_RUN_NONINTERACTIVE
          && gimp_display_new (image) == NULL))
    {
      refused_by_gimp (error, failed);
      gimp_image_delete (image);
      return NULL;
    }
  return layers.result;
}

static GimpValueArray *
refsr_plug_in_run (GimpProcedure *procedure, GimpRunMode run_mode,
                   GimpImage *image, GimpDrawable **drawables,
                   GimpProcedureConfig *config, gpointer run_data)
{
  RefsrSettings settings = { NULL };
  RefsrOutput output = { NULL };
  GimpLayer *layer = NULL;
  GError *error = NULL;
  GimpValueArray *values;

  gegl_init (NULL, NULL);
  if (!check_target (image, drawables, &error))
    return gimp_procedure_new_return_values (procedure,
                                             GIMP_PDB_EXECUTION_ERROR, error);
  if (run_mode == GIMP_RUN_INTERACTIVE)
    {
      gimp_ui_init (PLUG_IN_BINARY);
      if (!refsr_dialog_run (procedure, config, drawables[0],
                             memory_budget (NULL)))
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL,
                                                 NULL);
    }
  read_settings (config, image, GIMP_LAYER (drawables[0]), &settings);
  if (check_parents_unlocked (&settings, &error)
      && compute_output (&settings, &output, &error))
    layer = settings.output == OUTPUT_NEW_IMAGE
            ? apply_as_new_image (&settings, &output, run_mode, &error)
            : apply_as_new_layer (&settings, &output, &error);
  clear_output (&output);
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
