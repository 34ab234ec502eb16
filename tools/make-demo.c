/* make-demo.c — refsr-make-demo: renders the demo pair (and its ground
 * truth) procedurally, so the repository holds no photographs.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The scene is a field of pebbles (a jittered Voronoi diagram with shaded
 * cells, grout lines and grain).  From one 640×640 rendering it writes
 *   OUTDIR/hr.png   the 384×384 ground truth,
 *   OUTDIR/lr.png   the same region reduced 4× with Pillow's bicubic (96×96),
 *   OUTDIR/ref.png  an overlapping 384×384 region shifted by (+101, +67):
 * the situation refsr is made for — a soft image and a sharp shot nearby;
 *   OUTDIR/tele.png the middle 192×192 of hr.png's view rendered at twice
 * the scale (384×384), as a phone's 2× tele camera would see it. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "image-io.h"
#include "resample.h"

#define SCENE 640
#define GRID 24 /* cells per side */

typedef struct
{
  float x, y, r, g, b, shade;
} Cell;

static float
hash01 (guint32 n)
{
  n = (n ^ 61u) ^ (n >> 16);
  n *= 9u;
  n ^= n >> 4;
  n *= 0x27d4eb2du;
  n ^= n >> 15;
  return (float) (n & 0xffffff) / 16777216.0f;
}

static void
make_cells (Cell *cells)
{
  float step = (float) SCENE / GRID;

  for (int j = 0; j < GRID; j++)
    for (int i = 0; i < GRID; i++)
      {
        guint32 k = (guint32) (j * GRID + i) * 7u;
        Cell *c = &cells[j * GRID + i];
        float tone = 0.45f + 0.4f * hash01 (k + 3);
        c->x = (i + 0.15f + 0.7f * hash01 (k)) * step;
        c->y = (j + 0.15f + 0.7f * hash01 (k + 1)) * step;
        c->r = tone * (0.85f + 0.3f * hash01 (k + 4));
        c->g = tone * (0.8f + 0.2f * hash01 (k + 5));
        c->b = tone * (0.7f + 0.2f * hash01 (k + 6));
        c->shade = hash01 (k + 2) * 6.2831853f;
      }
}

/* Distances to the nearest and second-nearest cell centre. */
static const Cell *
nearest (const Cell *cells, float x, float y, float *d1, float *d2)
{
  int ci = (int) (x * GRID / SCENE), cj = (int) (y * GRID / SCENE);
  const Cell *best = NULL;

  *d1 = *d2 = 1e9f;
  for (int j = MAX (cj - 2, 0); j <= MIN (cj + 2, GRID - 1); j++)
    for (int i = MAX (ci - 2, 0); i <= MIN (ci + 2, GRID - 1); i++)
      {
        const Cell *c = &cells[j * GRID + i];
        float d = hypotf (x - c->x, y - c->y);
        if (d < *d1)
          *d2 = *d1, *d1 = d, best = c;
        else if (d < *d2)
          *d2 = d;
      }
  return best;
}

/* The size × size pixels of the scene from (x0, y0) (scene pixels)
 * rendered zoom times as finely: at zoom 1 the scene's own pixels, at 2
 * what a camera with twice the focal length sees there — the pebbles
 * twice as large, the grain finer. */
static void
render (guint8 *rgb, const Cell *cells, int x0, int y0, int size, int zoom)
{
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        float sx = x0 + (x + 0.5f) / zoom, sy = y0 + (y + 0.5f) / zoom;
        guint32 grain_at = (guint32) ((y0 * zoom + y) * SCENE * zoom
                                      + x0 * zoom + x);
        float d1, d2;
        const Cell *c = nearest (cells, sx, sy, &d1, &d2);
        float edge = fminf ((d2 - d1) / 3.0f, 1.0f); /* grout at borders */
        float light = 0.8f + 0.25f * cosf (atan2f (sy - c->y, sx - c->x) - c->shade)
                               * fminf (d1 / 10.0f, 1.0f);
        float grain = 0.12f * (hash01 (grain_at * 3u + 11u) - 0.5f);
        float rgbf[3] = { c->r, c->g, c->b };
        for (int k = 0; k < 3; k++)
          {
            float v = (rgbf[k] * light + grain) * edge + 0.12f * (1 - edge);
            rgb[((gsize) y * size + x) * 3 + k]
                = (guint8) CLAMP (lrintf (v * 255.0f), 0, 255);
          }
      }
}

static guint8 *
crop (const guint8 *scene, int x0, int y0, int size)
{
  guint8 *out = g_malloc ((gsize) size * size * 3);
  for (int y = 0; y < size; y++)
    memcpy (out + (gsize) y * size * 3,
            scene + ((gsize) (y0 + y) * SCENE + x0) * 3, (gsize) size * 3);
  return out;
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : ".";
  static Cell cells[GRID * GRID];
  guint8 *scene = g_malloc (SCENE * SCENE * 3), *hr, *ref, lr[96 * 96 * 3];
  guint8 *tele = g_malloc (384 * 384 * 3);
  const char *names[] = { "hr.png", "lr.png", "ref.png", "tele.png" };
  char *paths[4];
  GError *error = NULL;
  gboolean ok;

  make_cells (cells);
  render (scene, cells, 0, 0, SCENE, 1);
  render (tele, cells, 40 + 96, 60 + 96, 384, 2);
  hr = crop (scene, 40, 60, 384);
  ref = crop (scene, 141, 127, 384);
  ok = refsr_pil_resize (hr, 384, 384, 384 * 3, 3, lr, 96, 96, &error);
  for (int i = 0; i < 4; i++)
    paths[i] = g_build_filename (dir, names[i], NULL);
  refsr_io_init ();
  ok = ok && g_mkdir_with_parents (dir, 0755) == 0
       && refsr_io_save_png (paths[0], hr, 384, 384, &error)
       && refsr_io_save_png (paths[1], lr, 96, 96, &error)
       && refsr_io_save_png (paths[2], ref, 384, 384, &error)
       && refsr_io_save_png (paths[3], tele, 384, 384, &error);
  refsr_io_exit ();
  if (!ok)
    fprintf (stderr, "refsr-make-demo: %s\n",
             error ? error->message : "could not create the folder");
  else
    printf ("wrote %s, %s, %s, %s\n", paths[0], paths[1], paths[2],
            paths[3]);
  for (int i = 0; i < 4; i++)
    g_free (paths[i]);
  g_free (scene);
  g_free (tele);
  g_free (hr);
  g_free (ref);
  return ok ? 0 : 1;
}
