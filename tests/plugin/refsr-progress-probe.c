/* refsr-progress-probe.c — a test-only GIMP 3 plug-in: registers
 * plug-in-refsr-progress-probe, which calls plug-in-refsr through the PDB
 * on small images made for it (a layer and a larger reference layer in
 * the same image, with another layer and its mask, a channel, a
 * selection, a path, a guide and a sample point; "New layer" output, at
 * 4x, and at 2x with the confidence map) and writes to the file named by
 * REFSR_PROBE_LOG, one line each:
 *
 *   VTABLE name|(none) why   whether its progress vtable was installed
 *   CASE name                a run begins
 *   START text               progress calls routed to the vtable (a
 *   TEXT text                called plug-in's progress goes to its
 *   VALUE value seconds      caller's), seconds since the run began
 *   END
 *   SECONDS seconds          the call's time
 *   STATUS status message    the run's result (GimpPDBStatusType)
 *   SIZE what width height   sizes and positions after it
 *
 * GIMP 3.0.4 refuses the vtable (gimp-progress-install wants an int
 * "command" argument, libgimp declares an enum), so the test reads the
 * progress from refsr's own REFSR_PROGRESS_LOG; the vtable's calls are
 * recorded should a GIMP accept it.
 * REFSR_PROBE_WEIGHTS names the weights file; REFSR_PROBE_LARGE=1 adds a
 * run on a 120 × 120 layer with a 2000 × 1500 reference layer and nothing
 * else in the image, and times GIMP's Scale Image of such an image (what
 * "New layer" output did before it left the references alone).
 * test-progress.sh reads the file.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <libgimp/gimp.h>
#include <stdio.h>
#include <stdlib.h>

#define PROBE_PROC "plug-in-refsr-progress-probe"

typedef struct
{
  FILE *log;
  gint64 started;   /* g_get_monotonic_time of the run's start */
} Probe;

static double
elapsed (const Probe *probe)
{
  return (g_get_monotonic_time () - probe->started) / 1e6;
}

static void
on_start (const gchar *message, gboolean cancelable, gpointer data)
{
  Probe *probe = data;

  fprintf (probe->log, "START %s\n", message ? message : "");
}

static void
on_end (gpointer data)
{
  Probe *probe = data;

  fprintf (probe->log, "END\n");
}

static void
on_text (const gchar *message, gpointer data)
{
  Probe *probe = data;

  fprintf (probe->log, "TEXT %s\n", message ? message : "");
}

static void
on_value (gdouble value, gpointer data)
{
  Probe *probe = data;

  fprintf (probe->log, "VALUE %.6f %.3f\n", value, elapsed (probe));
}

static void
on_pulse (gpointer data)
{
  Probe *probe = data;

  fprintf (probe->log, "PULSE\n");
}

static GBytes *
on_get_window (gpointer data)
{
  return NULL;
}

/* Some texture, so that the engine has something to match. */
static void
fill_noise (GimpLayer *layer, guint32 seed)
{
  GeglBuffer *buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
  int width = gegl_buffer_get_width (buffer);
  int height = gegl_buffer_get_height (buffer);
  guint8 *pixels = g_malloc ((gsize) width * height * 3);
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < (gsize) width * height * 3; i++)
    pixels[i] = (guint8) g_rand_int_range (rand, 0, 256);
  gegl_buffer_set (buffer, GEGL_RECTANGLE (0, 0, width, height), 0,
                   babl_format ("R'G'B' u8"), pixels, GEGL_AUTO_ROWSTRIDE);
  g_object_unref (buffer);
  g_rand_free (rand);
  g_free (pixels);
}

static GimpLayer *
add_layer (GimpImage *image, const char *name, int width, int height,
           int x, int y, guint32 seed)
{
  GimpLayer *layer = gimp_layer_new (image, name, width, height,
                                     GIMP_RGB_IMAGE, 100, GIMP_LAYER_MODE_NORMAL);

  gimp_image_insert_layer (image, layer, NULL, 0);
  gimp_layer_set_offsets (layer, x, y);
  fill_noise (layer, seed);
  return layer;
}

static void
log_size (Probe *probe, const char *what, int width, int height)
{
  fprintf (probe->log, "SIZE %s %d %d\n", what, width, height);
}

static void
log_path_start (Probe *probe, GimpPath *path)
{
  gsize n_strokes = 0, n_points = 0;
  gint *strokes = gimp_path_get_strokes (path, &n_strokes);
  gdouble *points = NULL;
  gboolean closed;

  if (n_strokes > 0)
    gimp_path_stroke_get_points (path, strokes[0], &n_points, &points,
                                 &closed);
  /* a polyline's points come as control, anchor, control: the anchor */
  if (n_points >= 4)
    log_size (probe, "path-start", (int) points[2], (int) points[3]);
  g_free (points);
  g_free (strokes);
}

static void
log_selection (Probe *probe, GimpImage *image)
{
  gboolean non_empty = FALSE;
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  gimp_selection_bounds (image, &non_empty, &x1, &y1, &x2, &y2);
  log_size (probe, "selection-from", x1, y1);
  log_size (probe, "selection-to", x2, y2);
}

/* A layer with a mask, a channel, a selection, a path, a guide and a
 * sample point, to be enlarged with the image. */
static GimpPath *
add_extras (GimpImage *image)
{
  GimpLayer *other = add_layer (image, "other", 30, 20, 50, 60, 3);
  GeglColor *black = gegl_color_new ("black");
  GimpChannel *channel = gimp_channel_new (image, "mask",
                                           gimp_image_get_width (image),
                                           gimp_image_get_height (image), 50,
                                           black);
  GimpPath *path = gimp_path_new (image, "path");
  gint stroke;

  g_object_unref (black);
  gimp_layer_add_mask (other, gimp_layer_create_mask (other,
                                                      GIMP_ADD_MASK_WHITE));
  gimp_image_insert_channel (image, channel, NULL, 0);
  gimp_image_insert_path (image, path, NULL, 0);
  stroke = gimp_path_bezier_stroke_new_moveto (path, 10, 20);
  gimp_path_bezier_stroke_lineto (path, stroke, 50, 60);
  gimp_image_add_hguide (image, gimp_image_get_height (image) / 2);
  gimp_image_add_sample_point (image, 30, 40);
  gimp_image_select_rectangle (image, GIMP_CHANNEL_OP_REPLACE, 2, 2, 10, 10);
  return path;
}

static void
log_extras (Probe *probe, GimpImage *image, GimpPath *path)
{
  GimpChannel **channels = gimp_image_get_channels (image);
  GimpDrawable *channel = GIMP_DRAWABLE (channels[0]);
  GimpLayer *other = gimp_image_get_layer_by_name (image, "other");
  GimpDrawable *mask = GIMP_DRAWABLE (gimp_layer_get_mask (other));
  int x = 0, y = 0;

  log_size (probe, "channel", gimp_drawable_get_width (channel),
            gimp_drawable_get_height (channel));
  g_free (channels);
  gimp_drawable_get_offsets (GIMP_DRAWABLE (other), &x, &y);
  log_size (probe, "other", gimp_drawable_get_width (GIMP_DRAWABLE (other)),
            gimp_drawable_get_height (GIMP_DRAWABLE (other)));
  log_size (probe, "other-offsets", x, y);
  log_size (probe, "other-mask", gimp_drawable_get_width (mask),
            gimp_drawable_get_height (mask));
  log_path_start (probe, path);
  log_selection (probe, image);
  log_size (probe, "guide", gimp_image_get_guide_position (
                                image, gimp_image_find_next_guide (image, 0)),
            0);
  x = gimp_image_get_sample_point_position (
          image, gimp_image_find_next_sample_point (image, 0), &y);
  log_size (probe, "sample-point", x, y);
}

static void
log_sizes (Probe *probe, GimpImage *image, GimpLayer *reference,
           GimpLayer *target)
{
  GimpDrawable *ref = GIMP_DRAWABLE (reference);
  int ref_x = 0, ref_y = 0;

  gimp_drawable_get_offsets (ref, &ref_x, &ref_y);
  log_size (probe, "reference", gimp_drawable_get_width (ref),
            gimp_drawable_get_height (ref));
  log_size (probe, "reference-offsets", ref_x, ref_y);
  log_size (probe, "target", gimp_drawable_get_width (GIMP_DRAWABLE (target)),
            gimp_drawable_get_height (GIMP_DRAWABLE (target)));
  log_size (probe, "image", gimp_image_get_width (image),
            gimp_image_get_height (image));
}

/* How far layer name of image is from the same layer of expected, in
 * 8-bit levels of any channel: the largest difference and the mean. */
static void
log_difference (Probe *probe, GimpImage *image, GimpImage *expected,
                const char *name)
{
  GimpDrawable *got = GIMP_DRAWABLE (gimp_image_get_layer_by_name (image,
                                                                    name));
  GimpDrawable *want = GIMP_DRAWABLE (gimp_image_get_layer_by_name (expected,
                                                                     name));
  GeglBuffer *a = gimp_drawable_get_buffer (got);
  GeglBuffer *b = gimp_drawable_get_buffer (want);
  const GeglRectangle *rect = gegl_buffer_get_extent (a);
  gsize n = (gsize) rect->width * rect->height * 4;
  guint8 *pa = g_malloc (n), *pb = g_malloc (n);
  int largest = 0;
  double sum = 0;

  gegl_buffer_get (a, rect, 1.0, babl_format ("R'G'B'A u8"), pa,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  gegl_buffer_get (b, rect, 1.0, babl_format ("R'G'B'A u8"), pb,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  for (gsize i = 0; i < n; i++)
    {
      int d = abs (pa[i] - pb[i]);

      largest = MAX (largest, d);
      sum += d;
    }
  fprintf (probe->log, "DIFF %s %d %.4f\n", name, largest, sum / n);
  g_free (pa);
  g_free (pb);
  g_object_unref (a);
  g_object_unref (b);
}

/* The image as GIMP's Scale Image (NoHalo) would have enlarged it. */
static GimpImage *
scaled_by_gimp (GimpImage *image, int scale)
{
  GimpImage *copy = gimp_image_duplicate (image);

  gimp_context_push ();
  gimp_context_set_interpolation (GIMP_INTERPOLATION_NOHALO);
  gimp_image_scale (copy, gimp_image_get_width (image) * scale,
                    gimp_image_get_height (image) * scale);
  gimp_context_pop ();
  return copy;
}

/* One run of plug-in-refsr on a new image: the reference, at 4, 2, about
 * as large as the image, the layer to enlarge above it; with extras, a
 * channel, a selection, a path and a guide go with the image. */
static void
run_case (Probe *probe, GimpProcedure *refsr, GFile *weights,
          const char *name, const char *scale, gboolean map, gboolean extras,
          int lr_side, int ref_width, int ref_height)
{
  GimpImage *image = gimp_image_new (ref_width, ref_height, GIMP_RGB);
  GimpLayer *reference = add_layer (image, "reference", ref_width, ref_height,
                                    4, 2, 1);
  GimpLayer *target = add_layer (image, "target", lr_side, lr_side, 8, 4, 2);
  GimpPath *path = extras ? add_extras (image) : NULL;
  GimpDrawable *drawables[2] = { GIMP_DRAWABLE (target), NULL };
  GimpProcedureConfig *config = gimp_procedure_create_config (refsr);
  GimpImage *expected = extras ? scaled_by_gimp (image, scale[0] - '0')
                               : NULL;
  GimpValueArray *values;

  g_object_set (config, "run-mode", GIMP_RUN_NONINTERACTIVE, "image", image,
                "reference-layer", reference, "weights-file", weights,
                "scale", scale, "output", "new-layer",
                "confidence-map", map, NULL);
  gimp_procedure_config_set_core_object_array (config, "drawables",
                                               (GObject **) drawables, 1);
  fprintf (probe->log, "CASE %s\n", name);
  fflush (probe->log);
  probe->started = g_get_monotonic_time ();
  values = gimp_procedure_run_config (refsr, config);
  fprintf (probe->log, "SECONDS %.3f\n", elapsed (probe));
  fprintf (probe->log, "STATUS %d %s\n",
           GIMP_VALUES_GET_ENUM (values, 0),
           gimp_value_array_length (values) > 1
           && G_VALUE_HOLDS_STRING (gimp_value_array_index (values, 1))
           ? GIMP_VALUES_GET_STRING (values, 1) : "");
  log_sizes (probe, image, reference, target);
  if (path != NULL)
    log_extras (probe, image, path);
  if (expected != NULL)
    {
      log_difference (probe, image, expected, "other");
      log_difference (probe, image, expected, "target");
      gimp_image_delete (expected);
    }
  fflush (probe->log);
  gimp_value_array_unref (values);
  g_object_unref (config);
  gimp_image_delete (image);
}

/* What "New layer" output cost before it left the references alone:
 * GIMP's Scale Image (NoHalo) of the large case's image, timed. */
static void
time_image_scale (Probe *probe)
{
  GimpImage *image = gimp_image_new (2000, 1500, GIMP_RGB);
  gint64 started;

  add_layer (image, "reference", 2000, 1500, 4, 2, 1);
  add_layer (image, "target", 120, 120, 8, 4, 2);
  gimp_context_push ();
  gimp_context_set_interpolation (GIMP_INTERPOLATION_NOHALO);
  started = g_get_monotonic_time ();
  gimp_image_scale (image, 8000, 6000);
  fprintf (probe->log, "SCALE-SECONDS %.3f\n",
           (g_get_monotonic_time () - started) / 1e6);
  gimp_context_pop ();
  gimp_image_delete (image);
}

static GimpValueArray *
probe_run (GimpProcedure *procedure, GimpProcedureConfig *config,
           gpointer run_data)
{
  GimpProgressVtable vtable = { .start = on_start, .end = on_end,
                                .set_text = on_text, .set_value = on_value,
                                .pulse = on_pulse,
                                .get_window_handle = on_get_window };
  const char *path = g_getenv ("REFSR_PROBE_LOG");
  const char *weights_path = g_getenv ("REFSR_PROBE_WEIGHTS");
  GimpProcedure *refsr = gimp_pdb_lookup_procedure (gimp_get_pdb (),
                                                    "plug-in-refsr");
  GFile *weights;
  Probe probe = { NULL, 0 };
  const char *callback;

  if (path == NULL || weights_path == NULL || refsr == NULL
      || (probe.log = fopen (path, "w")) == NULL)
    return gimp_procedure_new_return_values (procedure,
                                             GIMP_PDB_CALLING_ERROR, NULL);
  weights = g_file_new_for_path (weights_path);
  callback = gimp_progress_install_vtable (&vtable, &probe, NULL);
  fprintf (probe.log, "VTABLE %s %s\n", callback ? callback : "(none)",
           callback ? "" : gimp_pdb_get_last_error (gimp_get_pdb ()));
  run_case (&probe, refsr, weights, "4x", "4x", FALSE, TRUE, 40, 200, 150);
  run_case (&probe, refsr, weights, "2x", "2x", TRUE, TRUE, 40, 200, 150);
  if (g_strcmp0 (g_getenv ("REFSR_PROBE_LARGE"), "1") == 0)
    {
      run_case (&probe, refsr, weights, "large", "4x", FALSE, FALSE, 120,
                2000, 1500);
      time_image_scale (&probe);
    }
  if (callback != NULL)
    gimp_progress_uninstall (callback);
  fclose (probe.log);
  g_object_unref (weights);
  return gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
}

#define PROBE_TYPE_PLUG_IN (probe_plug_in_get_type ())
G_DECLARE_FINAL_TYPE (ProbePlugIn, probe_plug_in, PROBE, PLUG_IN, GimpPlugIn)

struct _ProbePlugIn
{
  GimpPlugIn parent_instance;
};

G_DEFINE_TYPE (ProbePlugIn, probe_plug_in, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (PROBE_TYPE_PLUG_IN)

static GList *
probe_query_procedures (GimpPlugIn *plug_in)
{
  return g_list_append (NULL, g_strdup (PROBE_PROC));
}

static GimpProcedure *
probe_create_procedure (GimpPlugIn *plug_in, const gchar *name)
{
  GimpProcedure *procedure;

  if (g_strcmp0 (name, PROBE_PROC) != 0)
    return NULL;
  procedure = gimp_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                  probe_run, NULL, NULL);
  gimp_procedure_set_documentation (procedure,
      "Records the progress calls of plug-in-refsr (test only)", NULL, name);
  gimp_procedure_set_attribution (procedure, "the refsr authors",
                                  "the refsr authors", "2026");
  return procedure;
}

static void
probe_plug_in_class_init (ProbePlugInClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = probe_query_procedures;
  plug_in_class->create_procedure = probe_create_procedure;
}

static void
probe_plug_in_init (ProbePlugIn *plug_in)
{
}
