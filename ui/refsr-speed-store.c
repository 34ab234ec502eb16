/* refsr-speed-store.c — see refsr-speed-store.h.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <math.h>

#include "refsr-speed-store.h"

#define RATES_KEY "rates"

void
refsr_speed_store_add (GKeyFile *file, const char *machine, double rate)
{
  double *old, kept[REFSR_SPEED_KEEP];
  gsize n = 0, first;

  if (!(rate > 0.0) || !isfinite (rate))
    return;
  old = g_key_file_get_double_list (file, machine, RATES_KEY, &n, NULL);
  /* the newest REFSR_SPEED_KEEP - 1 of the old ones, then this one */
  first = n >= REFSR_SPEED_KEEP ? n - (REFSR_SPEED_KEEP - 1) : 0;
  for (gsize i = first; i < n; i++)
    kept[i - first] = old[i];
  kept[n - first] = rate;
  g_key_file_set_double_list (file, machine, RATES_KEY, kept,
                              n - first + 1);
  g_free (old);
}

gboolean
refsr_speed_store_get (GKeyFile *file, const char *machine, double *rate,
                       double *slowest, double *fastest)
{
  gsize n = 0;
  double *rates = g_key_file_get_double_list (file, machine, RATES_KEY, &n,
                                              NULL);
  double sum = 0.0, weights = 0.0, lo = 0.0, hi = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      /* an edited file may hold anything: only plausible rates count */
      if (!(rates[i] > 0.0) || !isfinite (rates[i]))
        continue;
      sum += (double) (i + 1) * rates[i];
      weights += (double) (i + 1);
      lo = lo == 0.0 ? rates[i] : MIN (lo, rates[i]);
      hi = MAX (hi, rates[i]);
    }
  g_free (rates);
  if (rate != NULL)
    *rate = weights > 0.0 ? sum / weights : 0.0;
  if (slowest != NULL)
    *slowest = lo;
  if (fastest != NULL)
    *fastest = hi;
  return weights > 0.0;
}
