/* load-gegl.c — formats read through a GEGL loader operation: SVG
 * (gegl:svg-load, librsvg).  The node's bounding box comes from the
 * loader's prepare step, which parses the document without rendering it
 * (a 30000×30000 SVG is refused in milliseconds); the render happens only
 * once the size is accepted.  Every GLib message GEGL or the loader emits
 * meanwhile is kept instead of printed, and any of them refuses the file.
 * The render goes into a zeroed buffer, and the loader writes the whole
 * rectangle from a cairo surface that cairo zero-fills, so no pixel can
 * be left unwritten.
 * Other GEGL loaders are not used: they accept truncated files without a
 * word (ppm-load, gif-load's libnsgif "makes do" with a short frame), so
 * a corrupt file could not be told from a good one.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "load-private.h"

#include <gegl.h>

/* cairo's image surfaces, which svg-load renders into, are at most
 * 32767 pixels on a side */
#define MAX_SIDE 32767

gboolean
refsr_io_load_gegl (RefsrIoReader *r, const char *operation,
                    const char *format_name, RefsrIoImage *image,
                    GError **error)
{
  GeglNode *graph, *load;
  GeglRectangle box;
  char *problem;
  guint8 *rgb;

  if (!gegl_has_operation (operation))
    {
      refsr_io_set_error (error, r, "%s files need GEGL's %s, which is not "
                          "installed", format_name, operation);
      return FALSE;
    }
  graph = gegl_node_new ();
  refsr_io_capture_begin ();
  load = gegl_node_new_child (graph, "operation", operation, "path", r->path,
                              NULL);
  box = gegl_node_get_bounding_box (load);
  problem = refsr_io_capture_end ();
  if (problem != NULL || box.width <= 0 || box.height <= 0)
    {
      refsr_io_set_error (error, r, "GEGL cannot read it as %s (%s)",
                          format_name, problem != NULL ? problem
                          : "it has no size");
      g_free (problem);
      g_object_unref (graph);
      return FALSE;
    }
  if (!refsr_io_check_size (r, box.width, box.height, error))
    {
      g_object_unref (graph);
      return FALSE;
    }
  if (box.width > MAX_SIDE || box.height > MAX_SIDE)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                   "'%s' is too large: %d×%d pixels, %s files may be at most "
                   "%d pixels on a side", r->name, box.width, box.height,
                   format_name, MAX_SIDE);
      g_object_unref (graph);
      return FALSE;
    }
  if (refsr_io_cancelled (r, error)
      || (rgb = refsr_io_alloc_pixels (r, box.width, box.height, 3,
                                       error)) == NULL)
    {
      g_object_unref (graph);
      return FALSE;
    }
  refsr_io_capture_begin ();
  gegl_node_blit (load, 1.0, &box, babl_format ("R'G'B' u8"), rgb,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  g_object_unref (graph);
  problem = refsr_io_capture_end ();
  if (problem != NULL)
    {
      refsr_io_set_error (error, r, "the file is corrupt (%s)", problem);
      g_free (problem);
      g_free (rgb);
      return FALSE;
    }
  if (refsr_io_cancelled (r, error))
    {
      g_free (rgb);
      return FALSE;
    }
  return refsr_io_finish (r, rgb, box.width, box.height, 1, image, error);
}
