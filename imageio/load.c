/* load.c — reading image files as 8-bit RGB through GEGL.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "image-io.h"

#include <gegl.h>
#include <string.h>

/* GEGL's loaders warn on stderr about files they reject; the commands
 * report every failure themselves in one line, so library chatter is shown
 * only with REFSR_VERBOSE set. */
static GLogWriterOutput
quiet_log_writer (GLogLevelFlags level, const GLogField *fields,
                  gsize n_fields, gpointer data)
{
  if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) == 0
      && g_getenv ("REFSR_VERBOSE") == NULL)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

void
refsr_io_init (void)
{
  static gsize writer_set;

  if (g_once_init_enter (&writer_set))
    {
      g_log_set_writer_func (quiet_log_writer, NULL, NULL);
      g_once_init_leave (&writer_set, 1);
    }
  gegl_init (NULL, NULL);
}

void
refsr_io_exit (void)
{
  gegl_exit ();
}

static GeglBuffer *
load_buffer (const char *path, GError **error)
{
  GeglNode *graph = gegl_node_new ();
  GeglNode *load = gegl_node_new_child (graph, "operation", "gegl:load",
                                        "path", path, NULL);
  GeglNode *sink;
  GeglBuffer *buffer = NULL;

  sink = gegl_node_new_child (graph, "operation", "gegl:buffer-sink",
                              "buffer", &buffer, NULL);
  gegl_node_link (load, sink);
  gegl_node_process (sink);
  g_object_unref (graph);
  if (buffer != NULL && gegl_buffer_get_width (buffer) > 0
      && gegl_buffer_get_height (buffer) > 0)
    return buffer;
  g_clear_object (&buffer);
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
               "Could not read '%s': not an image GEGL can load", path);
  return NULL;
}

static gboolean
check_size (const char *path, int width, int height,
            const RefsrIoLoadOptions *options, GError **error)
{
  gint64 max_pixels = options != NULL && options->max_pixels > 0
                      ? options->max_pixels : REFSR_MAX_REF_PIXELS;

  if ((gint64) width * height <= max_pixels)
    return TRUE;
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
               "'%s' is too large: %d×%d pixels, at most %.1f megapixels "
               "are supported", path, width, height,
               (double) max_pixels / 1e6);
  return FALSE;
}

gboolean
refsr_io_load_image (const char *path, const RefsrIoLoadOptions *options,
                     RefsrIoImage *image, GError **error)
{
  GeglBuffer *buffer;
  const GeglRectangle *extent;

  memset (image, 0, sizeof *image);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "Could not read '%s': no such file", path);
      return FALSE;
    }
  if ((buffer = load_buffer (path, error)) == NULL)
    return FALSE;
  extent = gegl_buffer_get_extent (buffer);
  if (!check_size (path, extent->width, extent->height, options, error))
    {
      g_object_unref (buffer);
      return FALSE;
    }
  image->width = extent->width;
  image->height = extent->height;
  image->pixels = g_try_malloc ((gsize) extent->width * extent->height * 3);
  if (image->pixels == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory reading '%s' (%d×%d)", path,
                   extent->width, extent->height);
      g_object_unref (buffer);
      return FALSE;
    }
  /* alpha is dropped (composited on nothing); TTSR works on opaque RGB */
  gegl_buffer_get (buffer, extent, 1.0, babl_format ("R'G'B' u8"),
                   image->pixels, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  g_object_unref (buffer);
  return TRUE;
}

void
refsr_io_image_clear (RefsrIoImage *image)
{
  g_free (image->pixels);
  memset (image, 0, sizeof *image);
}
