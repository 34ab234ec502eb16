/* refsr-preview.c — see refsr-preview.h.
 *
 * One job runs at a time.  The engine's cache (model and prepared
 * reference) belongs to whichever job runs, and to the main thread when
 * none does, so it needs no lock; a change while a job runs cancels it
 * through its flag (unless it is preparing the very reference the change
 * needs) and starts the next when it has stopped.  libgimp is called on the
 * main thread only: the pixels are read there, once per layer.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "refsr-gegl.h"
#include "refsr-preview.h"
#include "refsr-speed.h"

#define THUMB_SIZE 128
#define OUT_SIZE (4 * REFSR_PREVIEW_SIZE)
/* Changes closer together than this (typing the scales, a drag) make one
 * job, not one each. */
#define SETTLE_MS 250
/* LR pixels around the part that NoHalo reads. */
#define NOHALO_CONTEXT 4

typedef struct
{
  RefsrModel *model;
  char *model_key;
  RefsrReference *reference;
  char *reference_key;
} Engine;

typedef struct
{
  Engine *engine;
  char *weights_path;          /* NULL: the built-in model */
  char *model_key;
  char *reference_key;
  RefsrImage *refs;
  int n_refs;
  RefsrImage lr;
  RefsrRegion region;
  RefsrOptions options;
  atomic_int cancel;
  gboolean prepares;           /* the reference must be (re)built */
  RefsrResult *result;
  GError *error;
  double seconds, flops;       /* what the speed record gets */
} Job;

struct RefsrPreview
{
  GimpDrawable *target;
  guint64 budget;
  RefsrPreviewMeasured measured;
  gpointer measured_data;

  GtkWidget *box, *toggle, *thumb, *nohalo_area, *sr_area, *status;
  GdkPixbuf *thumb_pixbuf, *nohalo, *sr;
  gboolean sr_stale;

  RefsrGeglPixels lr;
  GHashTable *ref_pixels;      /* layer id → RefsrGeglPixels * */
  int cx, cy;                  /* the part's centre, in LR pixels */

  /* the settings */
  gboolean have_settings;
  char *weights_path;
  GArray *pool_ids;
  RefsrOptions options;
  char *setting_error;

  Engine engine;
  Job *running;
  gboolean pending, closing;
  guint settle_id;
};

static void schedule (RefsrPreview *p);

static void
set_status (RefsrPreview *p, const char *text)
{
  gtk_label_set_text (GTK_LABEL (p->status), text != NULL ? text : "");
}

static void
pixels_free (gpointer data)
{
  refsr_gegl_pixels_clear (data);
  g_free (data);
}

/* ---- the worker ---------------------------------------------------- */

static void
engine_drop_reference (Engine *e)
{
  g_clear_pointer (&e->reference, refsr_reference_free);
  g_clear_pointer (&e->reference_key, g_free);
}

static void
engine_clear (Engine *e)
{
  engine_drop_reference (e);
  g_clear_pointer (&e->model, refsr_model_free);
  g_clear_pointer (&e->model_key, g_free);
}

static gboolean
ensure_model (Job *job)
{
  Engine *e = job->engine;

  if (e->model != NULL && g_strcmp0 (e->model_key, job->model_key) == 0)
    return TRUE;
  engine_clear (e);
  e->model = job->weights_path != NULL
             ? refsr_model_load (job->weights_path, &job->error)
             : refsr_model_load_default (&job->error);
  if (e->model != NULL)
    e->model_key = g_strdup (job->model_key);
  return e->model != NULL;
}

static gboolean
ensure_reference (Job *job)
{
  Engine *e = job->engine;

  if (e->reference != NULL
      && g_strcmp0 (e->reference_key, job->reference_key) == 0)
    return TRUE;
  engine_drop_reference (e);
  e->reference = refsr_reference_new_pool (e->model, job->refs, job->n_refs,
                                           &job->options, &job->error);
  if (e->reference != NULL)
    e->reference_key = g_strdup (job->reference_key);
  return e->reference != NULL;
}

/* The estimate's operations for an LR image of the context's size; with
 * without_reference, less what preparing the references costs (an LR
 * image of 4 × 4 pixels costs next to nothing else). */
static double
job_flops (Job *job, gboolean without_reference)
{
  RefsrConfig config;
  RefsrOptions options = job->options;
  RefsrSize *sizes = g_new (RefsrSize, job->n_refs);
  RefsrRegion context;
  RefsrEstimate whole = { 0 }, tiny = { 0 };
  double flops = 0.0;

  refsr_model_get_config (job->engine->model, &config);
  for (int i = 0; i < job->n_refs; i++)
    sizes[i] = (RefsrSize) { job->refs[i].width, job->refs[i].height };
  options.max_memory = 0;
  options.tile_size = 0;
  if (refsr_region_context (job->lr.width, job->lr.height, &job->region,
                            &context, NULL)
      && refsr_estimate_pool (&config, context.width, context.height, sizes,
                              job->n_refs, &options, &whole, NULL))
    flops = whole.flops;
  if (without_reference
      && refsr_estimate_pool (&config, 4, 4, sizes, job->n_refs, &options,
                              &tiny, NULL))
    flops -= tiny.flops;
  g_free (sizes);
  return MAX (flops, 0.0);
}

static void
job_run (GTask *task, gpointer source, gpointer data,
         GCancellable *cancellable)
{
  Job *job = data;
  gint64 start = g_get_monotonic_time ();
  gboolean prepared_now;

  if (!ensure_model (job))
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  prepared_now = job->engine->reference == NULL
                 || g_strcmp0 (job->engine->reference_key,
                               job->reference_key) != 0;
  if (!ensure_reference (job))
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  job->result = refsr_run_region (job->engine->model, &job->lr, &job->region,
                                  job->engine->reference, &job->options,
                                  &job->error);
  job->seconds = (g_get_monotonic_time () - start) / 1e6;
  if (job->result != NULL)
    job->flops = job_flops (job, !prepared_now);
  g_task_return_boolean (task, job->result != NULL);
}

static void
job_free (Job *job)
{
  g_free (job->weights_path);
  g_free (job->model_key);
  g_free (job->reference_key);
  g_free (job->refs);
  g_clear_pointer (&job->result, refsr_result_free);
  g_clear_error (&job->error);
  g_free (job);
}

/* ---- pixels, read on the main thread ------------------------------- */

static const RefsrGeglPixels *
layer_pixels (RefsrPreview *p, int id, GError **error)
{
  RefsrGeglPixels *pixels;
  GimpDrawable *drawable;

  if (id == gimp_item_get_id (GIMP_ITEM (p->target)))
    return &p->lr;
  pixels = g_hash_table_lookup (p->ref_pixels, GINT_TO_POINTER (id));
  if (pixels != NULL)
    return pixels;
  drawable = gimp_drawable_get_by_id (id);
  pixels = g_new0 (RefsrGeglPixels, 1);
  if (drawable == NULL
      || !refsr_gegl_read_rgb (drawable, p->target, pixels, error))
    {
      if (drawable == NULL)
        g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                             _("The reference layer is gone."));
      g_free (pixels);
      return NULL;
    }
  g_hash_table_insert (p->ref_pixels, GINT_TO_POINTER (id), pixels);
  return pixels;
}

/* Only the pool's layers stay read; called while no job runs. */
static void
forget_other_layers (RefsrPreview *p)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, p->ref_pixels);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      gboolean used = FALSE;

      for (guint i = 0; i < p->pool_ids->len; i++)
        used |= g_array_index (p->pool_ids, int, i) == GPOINTER_TO_INT (key);
      if (!used)
        g_hash_table_iter_remove (&iter);
    }
}

static void
free_bytes (guchar *pixels, gpointer data)
{
  g_free (pixels);
}

static void
free_result (guchar *pixels, gpointer result)
{
  refsr_result_free (result);
}

static RefsrRegion
current_region (RefsrPreview *p)
{
  int w = MIN (REFSR_PREVIEW_SIZE, p->lr.width);
  int h = MIN (REFSR_PREVIEW_SIZE, p->lr.height);

  return (RefsrRegion) { CLAMP (p->cx - w / 2, 0, p->lr.width - w),
                         CLAMP (p->cy - h / 2, 0, p->lr.height - h), w, h };
}

/* The part enlarged 4× by GEGL's NoHalo, as GIMP enlarges. */
static GdkPixbuf *
nohalo_part (const RefsrGeglPixels *lr, const RefsrRegion *r)
{
  const Babl *format = babl_format ("R'G'B' u8");
  int x0 = MAX (r->x - NOHALO_CONTEXT, 0), y0 = MAX (r->y - NOHALO_CONTEXT, 0);
  int x1 = MIN (r->x + r->width + NOHALO_CONTEXT, lr->width);
  int y1 = MIN (r->y + r->height + NOHALO_CONTEXT, lr->height);
  GeglRectangle extent = { x0, y0, x1 - x0, y1 - y0 };
  GeglBuffer *source = gegl_buffer_new (&extent, format);
  GeglNode *graph = gegl_node_new ();
  GeglNode *in, *scale;
  int w = 4 * r->width, h = 4 * r->height;
  guint8 *out = g_malloc ((gsize) w * h * 3);

  gegl_buffer_set (source, &extent, 0, format,
                   lr->rgb + ((gsize) y0 * lr->width + x0) * 3,
                   (gint) lr->width * 3);
  in = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                            "buffer", source, NULL);
  scale = gegl_node_new_child (graph, "operation", "gegl:scale-ratio",
                               "x", 4.0, "y", 4.0,
                               "sampler", GEGL_SAMPLER_NOHALO, NULL);
  /* at the layer's edge, the edge's pixels rather than transparency */
  if (gegl_operation_find_property ("gegl:scale-ratio", "abyss-policy"))
    gegl_node_set (scale, "abyss-policy", GEGL_ABYSS_CLAMP, NULL);
  gegl_node_link (in, scale);
  gegl_node_blit (scale, 1.0,
                  GEGL_RECTANGLE (4 * r->x, 4 * r->y, w, h), format, out,
                  w * 3, GEGL_BLIT_DEFAULT);
  g_object_unref (graph);
  g_object_unref (source);
  return gdk_pixbuf_new_from_data (out, GDK_COLORSPACE_RGB, FALSE, 8, w, h,
                                   w * 3, free_bytes, NULL);
}

/* ---- jobs ---------------------------------------------------------- */

static char *
reference_key (RefsrPreview *p)
{
  GString *key = g_string_new (p->weights_path != NULL ? p->weights_path
                                                       : "");

  for (guint i = 0; i < p->pool_ids->len; i++)
    g_string_append_printf (key, "|%d", g_array_index (p->pool_ids, int, i));
  g_string_append_printf (key, "|%d|%" G_GUINT64_FORMAT,
                          p->options.n_ref_scales, p->budget);
  for (int i = 0; i < p->options.n_ref_scales; i++)
    g_string_append_printf (key, ",%g", p->options.ref_scales[i]);
  return g_string_free (key, FALSE);
}

static void
show_result (RefsrPreview *p, Job *job)
{
  char *text;

  g_clear_object (&p->sr);
  p->sr = gdk_pixbuf_new_from_data (job->result->pixels, GDK_COLORSPACE_RGB,
                                    FALSE, 8, job->result->width,
                                    job->result->height,
                                    job->result->width * 3,
                                    free_result, job->result);
  job->result = NULL;
  p->sr_stale = FALSE;
  text = g_strdup_printf (job->prepares
                          ? _("Reference prepared and part enlarged in %.1f "
                              "seconds.")
                          : _("Enlarged in %.1f seconds."), job->seconds);
  set_status (p, text);
  g_free (text);
  gtk_widget_queue_draw (p->sr_area);
}

static void
show_failure (RefsrPreview *p, const GError *error)
{
  char *text = g_strdup_printf (_("The preview failed: %s"),
                                error != NULL ? error->message : "?");

  g_clear_object (&p->sr);
  set_status (p, text);
  g_free (text);
  gtk_widget_queue_draw (p->sr_area);
}

/* With REFSR_PREVIEW_LOG set, each job's end goes to stderr: the
 * screenshot script waits for it, and it tells the preview's speed. */
static void
log_job (const Job *job, gboolean cancelled)
{
  if (g_getenv ("REFSR_PREVIEW_LOG") == NULL)
    return;
  if (cancelled)
    g_printerr ("refsr-preview: cancelled\n");
  else if (job->result != NULL)
    g_printerr ("refsr-preview: done in %.2f s%s, %.3g FLOP/s\n",
                job->seconds, job->prepares ? " (reference prepared)" : "",
                job->seconds > 0 ? job->flops / job->seconds : 0.0);
  else
    g_printerr ("refsr-preview: failed: %s\n",
                job->error != NULL ? job->error->message : "?");
}

static void launch (RefsrPreview *p);

static void
job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RefsrPreview *p = data;
  Job *job = g_task_get_task_data (G_TASK (result));
  gboolean cancelled = g_atomic_int_get (&job->cancel)
                       || g_error_matches (job->error, REFSR_ERROR,
                                           REFSR_ERROR_CANCELLED);

  p->running = NULL;
  log_job (job, cancelled);
  if (!p->closing && !cancelled)
    {
      if (job->result != NULL)
        {
          refsr_speed_record (job->flops, job->seconds);
          show_result (p, job);
          if (p->measured != NULL)
            p->measured (p->measured_data);
        }
      else
        show_failure (p, job->error);
    }
  if (!p->closing && p->pending && p->settle_id == 0)
    launch (p);
}

static gboolean
fill_refs (RefsrPreview *p, Job *job, GError **error)
{
  job->n_refs = (int) p->pool_ids->len;
  job->refs = g_new0 (RefsrImage, MAX (job->n_refs, 1));
  for (int i = 0; i < job->n_refs; i++)
    {
      const RefsrGeglPixels *px = layer_pixels (
          p, g_array_index (p->pool_ids, int, i), error);

      if (px == NULL)
        return FALSE;
      job->refs[i] = (RefsrImage) { px->rgb, px->width, px->height,
                                    px->width * 3 };
    }
  return TRUE;
}

static Job *
job_new (RefsrPreview *p, GError **error)
{
  Job *job = g_new0 (Job, 1);

  job->engine = &p->engine;
  job->weights_path = g_strdup (p->weights_path);
  job->model_key = g_strdup (p->weights_path != NULL ? p->weights_path : "");
  job->reference_key = reference_key (p);
  job->lr = (RefsrImage) { p->lr.rgb, p->lr.width, p->lr.height,
                           p->lr.width * 3 };
  job->region = current_region (p);
  job->options = p->options;
  job->options.cancel = &job->cancel;
  job->options.progress = NULL;
  job->options.tile_done = NULL;
  job->options.keep_textures = FALSE;
  job->options.tile_size = 0;
  job->options.max_memory = p->budget;
  job->prepares = g_strcmp0 (p->engine.model_key, job->model_key) != 0
                  || g_strcmp0 (p->engine.reference_key,
                                job->reference_key) != 0;
  if (!fill_refs (p, job, error))
    {
      job_free (job);
      return NULL;
    }
  return job;
}

static void
launch (RefsrPreview *p)
{
  GError *error = NULL;
  RefsrRegion region;
  GTask *task;
  Job *job;

  p->pending = FALSE;
  if (!p->have_settings || p->lr.rgb == NULL
      || !gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (p->toggle)))
    return;
  if (p->running != NULL)
    {
      p->pending = TRUE;
      return;
    }
  region = current_region (p);
  g_clear_object (&p->nohalo);
  p->nohalo = nohalo_part (&p->lr, &region);
  gtk_widget_queue_draw (p->nohalo_area);
  if (p->setting_error != NULL)
    {
      g_clear_object (&p->sr);
      set_status (p, p->setting_error);
      gtk_widget_queue_draw (p->sr_area);
      return;
    }
  forget_other_layers (p);
  job = job_new (p, &error);
  if (job == NULL)
    {
      show_failure (p, error);
      g_error_free (error);
      return;
    }
  set_status (p, job->prepares ? _("Preparing the reference…")
                               : _("Enlarging the preview…"));
  p->sr_stale = TRUE;
  gtk_widget_queue_draw (p->sr_area);
  p->running = job;
  task = g_task_new (NULL, NULL, job_done, p);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_run);
  g_object_unref (task);
}

static gboolean
settled (gpointer data)
{
  RefsrPreview *p = data;

  p->settle_id = 0;
  launch (p);
  return G_SOURCE_REMOVE;
}

/* A job preparing the reference the new settings need too is let finish:
 * the part or the search may change, the preparation stays useful. */
static void
schedule (RefsrPreview *p)
{
  if (p->running != NULL)
    {
      char *key = reference_key (p);

      if (!p->running->prepares
          || g_strcmp0 (key, p->running->reference_key) != 0)
        g_atomic_int_set (&p->running->cancel, 1);
      g_free (key);
      p->pending = TRUE;
    }
  if (p->settle_id != 0)
    g_source_remove (p->settle_id);
  p->settle_id = g_timeout_add (SETTLE_MS, settled, p);
}

/* ---- widgets ------------------------------------------------------- */

/* Where the thumbnail sits in its area, and its scale. */
static void
thumb_geometry (RefsrPreview *p, double *ox, double *oy, double *scale)
{
  int pw = gdk_pixbuf_get_width (p->thumb_pixbuf);
  int ph = gdk_pixbuf_get_height (p->thumb_pixbuf);

  *ox = (gtk_widget_get_allocated_width (p->thumb) - pw) / 2;
  *oy = (gtk_widget_get_allocated_height (p->thumb) - ph) / 2;
  *scale = (double) pw / p->lr.width;
}

static gboolean
draw_thumb (GtkWidget *widget, cairo_t *cr, RefsrPreview *p)
{
  RefsrRegion r;
  double ox, oy, s;

  if (p->thumb_pixbuf == NULL)
    return FALSE;
  thumb_geometry (p, &ox, &oy, &s);
  gdk_cairo_set_source_pixbuf (cr, p->thumb_pixbuf, ox, oy);
  cairo_paint (cr);
  r = current_region (p);
  /* dark under light, visible on any image */
  cairo_rectangle (cr, ox + r.x * s + 0.5, oy + r.y * s + 0.5,
                   MAX (r.width * s, 3.0) - 1.0,
                   MAX (r.height * s, 3.0) - 1.0);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 3.0);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);
  return FALSE;
}

static void
move_part (RefsrPreview *p, double x, double y)
{
  double ox, oy, s;

  if (p->thumb_pixbuf == NULL)
    return;
  thumb_geometry (p, &ox, &oy, &s);
  p->cx = CLAMP ((int) ((x - ox) / s), 0, p->lr.width - 1);
  p->cy = CLAMP ((int) ((y - oy) / s), 0, p->lr.height - 1);
  gtk_widget_queue_draw (p->thumb);
}

static gboolean
thumb_pressed (GtkWidget *widget, GdkEventButton *event, RefsrPreview *p)
{
  if (event->button != 1)
    return FALSE;
  move_part (p, event->x, event->y);
  return TRUE;
}

static gboolean
thumb_dragged (GtkWidget *widget, GdkEventMotion *event, RefsrPreview *p)
{
  move_part (p, event->x, event->y);
  return TRUE;
}

static gboolean
thumb_released (GtkWidget *widget, GdkEventButton *event, RefsrPreview *p)
{
  if (event->button != 1)
    return FALSE;
  move_part (p, event->x, event->y);
  schedule (p);
  return TRUE;
}

/* A result waiting for its update is shown faded. */
static gboolean
draw_part (GtkWidget *widget, cairo_t *cr, GdkPixbuf **pixbuf)
{
  RefsrPreview *p = g_object_get_data (G_OBJECT (widget), "refsr-preview");
  int w, h;

  if (*pixbuf == NULL)
    return FALSE;
  w = gdk_pixbuf_get_width (*pixbuf);
  h = gdk_pixbuf_get_height (*pixbuf);
  gdk_cairo_set_source_pixbuf (cr, *pixbuf,
                               (gtk_widget_get_allocated_width (widget) - w) / 2,
                               (gtk_widget_get_allocated_height (widget) - h) / 2);
  if (pixbuf == &p->sr && p->sr_stale)
    cairo_paint_with_alpha (cr, 0.4);
  else
    cairo_paint (cr);
  return FALSE;
}

static GtkWidget *
labelled (GtkWidget *child, const char *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *frame = gtk_frame_new (NULL);
  GtkWidget *label = gtk_label_new (text);

  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  gtk_container_add (GTK_CONTAINER (frame), child);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 20);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_box_pack_start (GTK_BOX (box), frame, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
  return box;
}

static GtkWidget *
part_area (RefsrPreview *p, GdkPixbuf **pixbuf)
{
  GtkWidget *area = gtk_drawing_area_new ();

  gtk_widget_set_size_request (area, OUT_SIZE, OUT_SIZE);
  g_object_set_data (G_OBJECT (area), "refsr-preview", p);
  g_signal_connect (area, "draw", G_CALLBACK (draw_part), pixbuf);
  return area;
}

static GtkWidget *
thumb_area (RefsrPreview *p)
{
  GtkWidget *area = gtk_drawing_area_new ();

  gtk_widget_set_size_request (area, THUMB_SIZE, THUMB_SIZE);
  gtk_widget_add_events (area, GDK_BUTTON_PRESS_MASK
                               | GDK_BUTTON_RELEASE_MASK
                               | GDK_BUTTON1_MOTION_MASK);
  g_signal_connect (area, "draw", G_CALLBACK (draw_thumb), p);
  g_signal_connect (area, "button-press-event", G_CALLBACK (thumb_pressed),
                    p);
  g_signal_connect (area, "motion-notify-event", G_CALLBACK (thumb_dragged),
                    p);
  g_signal_connect (area, "button-release-event",
                    G_CALLBACK (thumb_released), p);
  gtk_widget_set_tooltip_text (area, _("Click or drag to choose the part "
                                       "of the layer the preview shows"));
  return area;
}

static void
toggled (GtkToggleButton *toggle, RefsrPreview *p)
{
  if (gtk_toggle_button_get_active (toggle))
    {
      schedule (p);
      return;
    }
  if (p->running != NULL)
    g_atomic_int_set (&p->running->cancel, 1);
  p->pending = FALSE;
  g_clear_object (&p->sr);
  gtk_widget_queue_draw (p->sr_area);
  set_status (p, NULL);
}

/* The two enlargements side by side, below them the thumbnail (its
 * tooltip says what a click does) and, beside it, what the preview is
 * doing: a column narrow and low enough to sit left of the settings. */
static void
build_widgets (RefsrPreview *p)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *below = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *thumb_frame = gtk_frame_new (NULL);

  p->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  p->toggle = gtk_check_button_new_with_mnemonic (_("_Preview"));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (p->toggle), TRUE);
  g_signal_connect (p->toggle, "toggled", G_CALLBACK (toggled), p);
  p->thumb = thumb_area (p);
  p->nohalo_area = part_area (p, &p->nohalo);
  p->sr_area = part_area (p, &p->sr);
  gtk_box_pack_start (GTK_BOX (row),
                      labelled (p->nohalo_area, _("NoHalo 4×")),
                      FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row),
                      labelled (p->sr_area, _("With the reference 4×")),
                      FALSE, FALSE, 0);
  gtk_frame_set_shadow_type (GTK_FRAME (thumb_frame), GTK_SHADOW_IN);
  gtk_container_add (GTK_CONTAINER (thumb_frame), p->thumb);
  gtk_widget_set_valign (thumb_frame, GTK_ALIGN_START);
  p->status = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (p->status), 0.0);
  gtk_label_set_yalign (GTK_LABEL (p->status), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (p->status), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (p->status), 22);
  gtk_label_set_width_chars (GTK_LABEL (p->status), 22);
  gtk_box_pack_start (GTK_BOX (below), thumb_frame, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (below), p->status, TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (p->box), p->toggle, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (p->box), row, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (p->box), below, FALSE, FALSE, 0);
  gtk_widget_show_all (p->box);
}

static void
make_thumbnail (RefsrPreview *p)
{
  GdkPixbuf *whole = gdk_pixbuf_new_from_data (p->lr.rgb, GDK_COLORSPACE_RGB,
                                               FALSE, 8, p->lr.width,
                                               p->lr.height, p->lr.width * 3,
                                               NULL, NULL);
  double s = MIN ((double) THUMB_SIZE / p->lr.width,
                  (double) THUMB_SIZE / p->lr.height);

  p->thumb_pixbuf = gdk_pixbuf_scale_simple (
      whole, MAX (1, (int) (p->lr.width * s + 0.5)),
      MAX (1, (int) (p->lr.height * s + 0.5)), GDK_INTERP_BILINEAR);
  g_object_unref (whole);
}

RefsrPreview *
refsr_preview_new (GimpDrawable *target, guint64 budget,
                   RefsrPreviewMeasured measured, gpointer data)
{
  RefsrPreview *p = g_new0 (RefsrPreview, 1);
  GError *error = NULL;

  p->target = target;
  p->budget = budget;
  p->measured = measured;
  p->measured_data = data;
  p->ref_pixels = g_hash_table_new_full (NULL, NULL, NULL, pixels_free);
  p->pool_ids = g_array_new (FALSE, FALSE, sizeof (int));
  build_widgets (p);
  if (refsr_gegl_read_rgb (target, target, &p->lr, &error))
    {
      p->cx = p->lr.width / 2;
      p->cy = p->lr.height / 2;
      make_thumbnail (p);
    }
  else
    {
      show_failure (p, error);
      g_error_free (error);
    }
  return p;
}

GtkWidget *
refsr_preview_get_widget (RefsrPreview *preview)
{
  return preview->box;
}

void
refsr_preview_set (RefsrPreview *p, GFile *weights, GimpDrawable **pool,
                   int n_refs, const RefsrOptions *options)
{
  g_clear_pointer (&p->weights_path, g_free);
  g_clear_pointer (&p->setting_error, g_free);
  if (weights != NULL)
    p->weights_path = g_file_get_path (weights);
  g_array_set_size (p->pool_ids, 0);
  for (int i = 0; i < n_refs; i++)
    {
      int id = gimp_item_get_id (GIMP_ITEM (pool[i]));

      g_array_append_val (p->pool_ids, id);
    }
  p->options = *options;
  p->have_settings = TRUE;
  schedule (p);
}

void
refsr_preview_set_error (RefsrPreview *p, const char *text)
{
  g_free (p->setting_error);
  p->setting_error = g_strdup (text);
  p->have_settings = TRUE;
  schedule (p);
}

void
refsr_preview_free (RefsrPreview *p)
{
  if (p == NULL)
    return;
  p->closing = TRUE;
  if (p->settle_id != 0)
    g_source_remove (p->settle_id);
  if (p->running != NULL)
    g_atomic_int_set (&p->running->cancel, 1);
  /* the worker uses the engine and the pixels until its callback */
  while (p->running != NULL)
    g_main_context_iteration (NULL, TRUE);
  engine_clear (&p->engine);
  g_hash_table_destroy (p->ref_pixels);
  g_array_free (p->pool_ids, TRUE);
  refsr_gegl_pixels_clear (&p->lr);
  g_clear_object (&p->thumb_pixbuf);
  g_clear_object (&p->nohalo);
  g_clear_object (&p->sr);
  g_free (p->weights_path);
  g_free (p->setting_error);
  g_free (p);
}
