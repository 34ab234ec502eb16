/* image-probe.c — loads one image with the imageio reader and says what
 * came of it, for tests/test-image-read.py:
 *   image-probe [--memory] [--native] [--max-pixels N]
 *               [--cancel-after MS] [--raw OUT] FILE
 * prints "ok W H" (and writes the packed RGB bytes to OUT) or
 * "error CODE MESSAGE" with CODE one of io, invalid-input, no-memory,
 * cancelled; exit status 0 or 1, 2 for bad arguments.  --memory reads the
 * file into memory and uses refsr_io_load_image_from_data; --cancel-after
 * raises the cancel flag MS milliseconds after the load starts (0: before);
 * --native skips refsr_io_init (GEGL), which PNG, JPEG and TIFF do not
 * need: valgrind runs take seconds less per file.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-io.h"

static atomic_int cancel;

static gpointer
cancel_later (gpointer data)
{
  g_usleep (GPOINTER_TO_INT (data) * (gulong) 1000);
  atomic_store (&cancel, 1);
  return NULL;
}

int
main (int argc, char **argv)
{
  RefsrIoLoadOptions options = { 0, &cancel };
  RefsrIoImage image;
  const char *raw = NULL, *path = NULL;
  static const char *const codes[] = {
    [REFSR_ERROR_CANCELLED] = "cancelled",
    [REFSR_ERROR_INVALID_INPUT] = "invalid-input",
    [REFSR_ERROR_WEIGHTS] = "weights",
    [REFSR_ERROR_NO_MEMORY] = "no-memory",
    [REFSR_ERROR_IO] = "io",
  };
  GError *error = NULL;
  GThread *canceller = NULL;
  gboolean memory = FALSE, native = FALSE, ok;
  int cancel_after = -1;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--memory") == 0)
        memory = TRUE;
      else if (strcmp (argv[i], "--native") == 0)
        native = TRUE;
      else if (strcmp (argv[i], "--max-pixels") == 0 && i + 1 < argc)
        options.max_pixels = g_ascii_strtoll (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--cancel-after") == 0 && i + 1 < argc)
        cancel_after = atoi (argv[++i]);
      else if (strcmp (argv[i], "--raw") == 0 && i + 1 < argc)
        raw = argv[++i];
      else if (path == NULL && argv[i][0] != '-')
        path = argv[i];
      else
        path = NULL, i = argc;
    }
  if (path == NULL)
    {
      fprintf (stderr, "usage: image-probe [--memory] [--native] "
               "[--max-pixels N] [--cancel-after MS] [--raw OUT] FILE\n");
      return 2;
    }
  if (!native)
    refsr_io_init ();
  if (cancel_after == 0)
    atomic_store (&cancel, 1);
  else if (cancel_after > 0)
    canceller = g_thread_new ("cancel", cancel_later,
                              GINT_TO_POINTER (cancel_after));
  if (memory)
    {
      gchar *data = NULL;
      gsize size = 0;

      if (!g_file_get_contents (path, &data, &size, &error))
        {
          printf ("error read %s\n", error->message);
          return 1;
        }
      ok = refsr_io_load_image_from_data ((const guint8 *) data, size, path,
                                          &options, &image, &error);
      g_free (data);
    }
  else
    ok = refsr_io_load_image (path, &options, &image, &error);
  if (canceller != NULL)
    g_thread_join (canceller);
  if (ok)
    {
      printf ("ok %d %d\n", image.width, image.height);
      if (raw != NULL
          && !g_file_set_contents (raw, (const char *) image.pixels,
                                   (gssize) image.width * image.height * 3,
                                   &error))
        {
          printf ("error write %s\n", error->message);
          ok = FALSE;
        }
    }
  else if (error->domain == REFSR_ERROR && error->code >= 0
           && error->code <= REFSR_ERROR_IO)
    printf ("error %s %s\n", codes[error->code], error->message);
  else
    printf ("error other %s\n", error->message);
  g_clear_error (&error);
  refsr_io_image_clear (&image);
  if (!native)
    refsr_io_exit ();
  return ok ? 0 : 1;
}
