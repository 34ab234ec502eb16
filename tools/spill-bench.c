/* spill-bench.c — refsr-spill-bench: the reference's features built on
 * the heap or spilled to a temporary file (spill.h): build time, peak
 * RSS and the resident anonymous and file pages; then the time of one
 * search and one transfer against them, with the pages released before
 * each as the engine does between tiles.
 *
 *   refsr-spill-bench heap|spill [WIDTH HEIGHT [LR [WEIGHTS]]]
 *
 * (default 2000×1500, an LR tile of 32, the built-in model).  One mode
 * per process, so that ru_maxrss is that mode's own.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "refsr-config.h"
#include "model.h"
#include "pixels.h"
#include "reference.h"
#include "search.h"
#include "bench-common.h"
#include "transfer.h"

typedef struct
{
  long anon, file, shmem; /* kB, from /proc/self/status */
} Resident;

static long
status_kb (const char *status, const char *key)
{
  const char *p = status != NULL ? strstr (status, key) : NULL;

  return p != NULL ? strtol (p + strlen (key), NULL, 10) : -1;
}

static Resident
resident (void)
{
  g_autofree char *status = NULL;

  g_file_get_contents ("/proc/self/status", &status, NULL, NULL);
  return (Resident) { status_kb (status, "RssAnon:"),
                      status_kb (status, "RssFile:"),
                      status_kb (status, "RssShmem:") };
}

/* The most resident anonymous and mapped-file memory seen at a strip's
 * end (RssAnon has no high-water mark of its own). */
static void
strip_done (double macs, void *data)
{
  Resident *most = data, now = resident ();

  most->anon = MAX (most->anon, now.anon);
  most->file = MAX (most->file, now.file);
  most->shmem = MAX (most->shmem, now.shmem);
}

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean spill = argc > 1 && strcmp (argv[1], "spill") == 0;
  int width = argc > 3 ? atoi (argv[2]) : 2000;
  int height = argc > 3 ? atoi (argv[3]) : 1500;
  int lr = argc > 4 ? atoi (argv[4]) : 32;
  const char *weights = argc > 5 ? argv[5]
                        : REFSR_SOURCE_ROOT "/data/refsr-default.safetensors";
  g_autoptr (RefsrModel) model = NULL;
  RefsrExec exec = { .n_threads = (int) g_get_num_processors () };
  RefsrReferenceData ref;
  Resident most = { 0 }, built;
  RefsrTensor x = { 0 }, S = { 0 }, t[3] = { { 0 } };
  RefsrLteFeatures q = { 0 };
  gint64 *idx;
  guint8 *px;
  double t0, t_build, t_search, t_transfer;
  long peak_build;

  if (argc < 2 || (!spill && strcmp (argv[1], "heap") != 0) || width < 16
      || height < 16 || lr < 1 || 4 * lr > MIN (width, height))
    {
      fprintf (stderr, "usage: refsr-spill-bench heap|spill "
               "[WIDTH HEIGHT [LR [WEIGHTS]]]\n");
      return 2;
    }
  if ((model = refsr_model_load (weights, &error)) == NULL)
    {
      fprintf (stderr, "refsr-spill-bench: %s\n", error->message);
      return 1;
    }
  px = bench_texture (width, height, 2);

  t0 = now ();
  if (!refsr_reference_data_build_full (&ref, &model->lte, px, width,
                                        height, width * 3, 128, spill, NULL,
                                        strip_done, &most, &exec, &error))
    {
      fprintf (stderr, "refsr-spill-bench: %s\n", error->message);
      return 1;
    }
  t_build = now () - t0;
  built = resident ();
  peak_build = bench_peak_rss_kb ();

  /* one search tile: the LTE of a 4lr × 4lr crop taken as LR↑ */
  idx = g_new (gint64, (gsize) lr * lr);
  if (!refsr_tensor_alloc (&S, 1, lr, lr, &error)
      || !refsr_pixels_to_tensor (px, 4 * lr, 4 * lr, width * 3, &x, &error)
      || !refsr_lte_forward (&model->lte, &x, 4u, &q, &exec, &error))
    {
      fprintf (stderr, "refsr-spill-bench: %s\n", error->message);
      return 1;
    }
  refsr_reference_data_release_pages (&ref);
  t0 = now ();
  if (!refsr_search (&q.lv3, &ref.key, idx, S.data, &exec, &error))
    {
      fprintf (stderr, "refsr-spill-bench: %s\n", error->message);
      return 1;
    }
  t_search = now () - t0;

  /* its transfer, the pages released first as after a search tile */
  refsr_reference_data_release_pages (&ref);
  if (!refsr_tensor_alloc (&t[0], 256, lr, lr, &error)
      || !refsr_tensor_alloc (&t[1], 128, 2 * lr, 2 * lr, &error)
      || !refsr_tensor_alloc (&t[2], 64, 4 * lr, 4 * lr, &error))
    {
      fprintf (stderr, "refsr-spill-bench: %s\n", error->message);
      return 1;
    }
  t0 = now ();
  refsr_transfer (&ref.value.lv3, 1, idx, lr, lr, &t[0], &exec);
  refsr_transfer (&ref.value.lv2, 2, idx, lr, lr, &t[1], &exec);
  refsr_transfer (&ref.value.lv1, 4, idx, lr, lr, &t[2], &exec);
  t_transfer = now () - t0;

  printf ("%s %d×%d (%.0f MB of features), %d threads, strips of 128:\n"
          "  build %.2f s; at strip ends at most RssAnon %ld MB, RssFile "
          "%ld MB, RssShmem %ld MB\n"
          "  after build: RssAnon %ld MB, RssFile %ld MB, RssShmem %ld MB\n"
          "  search of %d×%d LR %.2f s, transfer %.3f s\n"
          "  peak RSS (ru_maxrss) %ld MB after the build, %ld MB at the "
          "end\n",
          spill ? "spilled" : "heap", width, height,
          refsr_reference_data_bytes (width, height) / 1048576.0,
          exec.n_threads, t_build, most.anon / 1024, most.file / 1024,
          most.shmem / 1024, built.anon / 1024, built.file / 1024,
          built.shmem / 1024, lr, lr, t_search, t_transfer,
          peak_build / 1024, bench_peak_rss_kb () / 1024);

  for (int i = 0; i < 3; i++)
    refsr_tensor_clear (&t[i]);
  refsr_tensor_clear (&x);
  refsr_tensor_clear (&S);
  refsr_lte_features_clear (&q);
  refsr_reference_data_clear (&ref);
  g_free (idx);
  g_free (px);
  return 0;
}
