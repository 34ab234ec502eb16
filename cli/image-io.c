/* image-io.c — reading and writing image files for the refsr command,
 * through GEGL.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "image-io.h"

#include <gegl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "refsr.h"

void
cli_image_io_init (void)
{
  gegl_init (NULL, NULL);
}

void
cli_image_io_exit (void)
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

gboolean
cli_image_load (const char *path, CliImage *image, GError **error)
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

static gboolean
save_via_gegl (const char *path, GeglBuffer *buffer)
{
  GeglNode *graph = gegl_node_new ();
  GeglNode *src = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                       "buffer", buffer, NULL);
  GeglNode *save = gegl_node_new_child (graph, "operation", "gegl:png-save",
                                        "path", path, "bitdepth", 8, NULL);
  gegl_node_link (src, save);
  gegl_node_process (save);
  g_object_unref (graph);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

gboolean
cli_image_save_png (const char *path, const guint8 *rgb, int width,
                    int height, GError **error)
{
  GeglRectangle rect = { 0, 0, width, height };
  GeglBuffer *buffer = gegl_buffer_new (&rect, babl_format ("R'G'B' u8"));
  char *dir = g_path_get_dirname (path);
  char *tmp = g_strdup_printf ("%s/.refsr-%u-%u.png", dir, (unsigned) getpid (),
                               g_random_int ());
  gboolean ok;

  gegl_buffer_set (buffer, &rect, 0, babl_format ("R'G'B' u8"), rgb,
                   GEGL_AUTO_ROWSTRIDE);
  ok = save_via_gegl (tmp, buffer);
  g_object_unref (buffer);
  if (ok && g_rename (tmp, path) != 0)
    ok = FALSE;
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "Could not write '%s': %s", path,
                   !g_file_test (dir, G_FILE_TEST_IS_DIR) ? "no such folder"
                   : access (dir, W_OK) != 0 ? "the folder is not writable"
                   : "the PNG encoder failed");
    }
  g_free (tmp);
  g_free (dir);
  return ok;
}

void
cli_image_clear (CliImage *image)
{
  g_free (image->pixels);
  memset (image, 0, sizeof *image);
}
