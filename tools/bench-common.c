/* bench-common.c — the benchmarks' synthetic images and peak memory.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "bench-common.h"

#include <math.h>
#include <sys/resource.h>

/* A deterministic texture: a few oriented waves plus hashed noise, so the
 * search sees structure without exact repeats. */
guint8 *
bench_texture (int w, int h, guint32 seed)
{
  guint8 *px = g_malloc ((gsize) w * h * 3);
  GRand *rand = g_rand_new_with_seed (seed);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        {
          double v = 128 + 50 * sin (0.21 * x + 0.13 * y + c)
                     + 30 * sin (0.05 * x * (c + 1) - 0.31 * y)
                     + g_rand_double_range (rand, -25, 25);
          px[((gsize) y * w + x) * 3 + c] = (guint8) CLAMP (v, 0, 255);
        }
  g_rand_free (rand);
  return px;
}

long
bench_peak_rss_kb (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}
