/* bench.c — refsr-bench: wall time, peak memory and GFLOP/s of the engine
 * for LR 40², 80² and 120² with a reference 4× as large, and on request
 * the large case: LR 1000×750 (a 12-megapixel result) with a 1000×1000
 * reference in a 1 GiB budget.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each size runs in its own process (this program re-executes itself) so
 * that the peak RSS of one row is not inherited by the next. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gemm.h"
#include "lte.h"
#include "mainnet.h"
#include "plan.h"
#include "refsr.h"
#include "bench-common.h"
#include "fma-peak.h"

typedef struct
{
  double start, stage_start;
  char stage[32];
  double seconds[5]; /* features, search, transfer, reconstruction, other */
  double longest_gap; /* between two progress reports (or the start) */
  char gap_from[48], gap_to[48]; /* the reports around it */
  char last[48];
} Timing;

static int
stage_slot (const char *stage)
{
  static const char *names[] = { "features", "search", "transfer",
                                 "reconstruction" };
  for (int i = 0; i < 4; i++)
    if (strcmp (stage, names[i]) == 0)
      return i;
  return 4;
}

/* Progress reports the stage that just advanced; time between two reports
 * belongs to the stage of the later one. */
static void
on_progress (double fraction, const char *stage, void *data)
{
  Timing *t = data;
  double now = g_get_monotonic_time () / 1e6;

  t->seconds[stage_slot (stage)] += now - t->stage_start;
  if (now - t->stage_start > t->longest_gap)
    {
      t->longest_gap = now - t->stage_start;
      g_strlcpy (t->gap_from, t->last, sizeof t->gap_from);
      g_snprintf (t->gap_to, sizeof t->gap_to, "%s %.1f%%", stage,
                  100 * fraction);
    }
  g_snprintf (t->last, sizeof t->last, "%s %.1f%%", stage, 100 * fraction);
  t->stage_start = now;
}

/* The output as a caller that streams it keeps it: 8-bit RGB only. */
typedef struct
{
  guint8 *pixels;
  int width;
} Canvas;

static gboolean
keep_tile (const RefsrTile *tile, void *data, GError **error)
{
  Canvas *c = data;

  refsr_tile_copy_pixels (tile, c->pixels, (gsize) c->width * 3);
  return TRUE;
}

typedef struct
{
  int lr_w, lr_h, ref_w, ref_h;
  guint64 max_memory; /* 0: the whole image at once */
  gboolean streamed;   /* tiles handed out as done (tile_done) */
  RefsrSearch search;  /* REFSR_SEARCH_AUTO (0) unless said */
  int n_ref_scales;    /* RefsrOptions': 0, scale 1 alone */
} Case;

/* What a row prints after itself. */
typedef enum
{
  PRINT_ROW,         /* the row alone (one of several sizes) */
  PRINT_ROW_STAGES,  /* and the stage table */
  PRINT_ALL          /* the table's header too: a size asked for alone */
} Printing;

/* The engine's own MAC formulas for each stage of one run on the whole
 * image (no tiles, so no margins are computed twice). */
typedef struct
{
  double features, search, transfer, reconstruction;
} StageMacs;

static StageMacs
stage_macs (const Case *bc, const RefsrConfig *config)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;
  double scales[REFSR_MAX_REF_SCALES];
  int n_scales;
  StageMacs m;

  options.n_ref_scales = bc->n_ref_scales;
  n_scales = refsr_ref_scales (&options, bc->ref_w, bc->ref_h, scales, NULL);
  m.features = refsr_lte_macs (4 * bc->lr_h, 4 * bc->lr_w);
  for (int i = 0; i < n_scales; i++)
    {
      int w = (int) floor (bc->ref_w * scales[i] + 0.5);
      int h = (int) floor (bc->ref_h * scales[i] + 0.5);

      m.features += 2 * refsr_lte_macs (h / 4 * 4, w / 4 * 4);
    }
  m.search = refsr_search_macs (bc->lr_h, bc->lr_w, bc->ref_h / 4 * 4,
                                bc->ref_w / 4 * 4);
  m.transfer = refsr_transfer_macs (bc->lr_h, bc->lr_w);
  m.reconstruction = refsr_mainnet_macs (config, bc->lr_h, bc->lr_w);
  return m;
}

static void
print_table_header (void)
{
  printf ("| LR | Ref | threads | wall s | peak RSS MB | conv GFLOP/s "
          "| search GFLOP/s* | features / search / transfer / main net s "
          "| longest s without progress |\n"
          "|---|---|---|---|---|---|---|---|---|\n");
}

/* Time, GFLOP/s and share of the measured FMA peak of every stage, a
 * column group per GEMM backend (the first is the default). */
static void
print_stages (const StageMacs *m, const Timing *t, const double *total,
              const RefsrGemmBackend *backends, int n_backends, double peak,
              const char *isa, int threads)
{
  static const char *names[] = { "features (LTE convs)", "search (exact)",
                                 "transfer", "main network convs" };
  const double macs[] = { m->features, m->search, m->transfer,
                          m->reconstruction };

  printf ("\nGEMM backends: the engine's default uses %s for the "
          "convolutions and %s for the search; the other column groups run "
          "every product on one backend.\n",
          refsr_sgemm_backend (),
          refsr_sgemm_backend_name (refsr_sgemm_fastest ()));
  printf ("\nfp32 FMA peak measured in this process: %.1f GFLOP/s (%s, %d "
          "thread%s, best of the repeats before and after the runs)\n\n",
          peak, isa, threads, threads == 1 ? "" : "s");
  printf ("| stage | GFLOP |");
  for (int b = 0; b < n_backends; b++)
    if (backends[b] == REFSR_GEMM_N_BACKENDS)
      printf (" default s | GFLOP/s | of peak |");
    else
      printf (" all %s s | GFLOP/s | of peak |",
              refsr_sgemm_backend_name (backends[b]));
  printf ("\n|---|---|");
  for (int b = 0; b < n_backends; b++)
    printf ("---|---|---|");
  printf ("\n");
  for (int s = 0; s <= 4; s++)
    {
      double all = macs[0] + macs[1] + macs[2] + macs[3];

      printf ("| %s | %.1f |", s < 4 ? names[s] : "whole run",
              2 * (s < 4 ? macs[s] : all) / 1e9);
      for (int b = 0; b < n_backends; b++)
        {
          double seconds = s < 4 ? t[b].seconds[s] : total[b];
          double gflops = 2 * (s < 4 ? macs[s] : all) / seconds / 1e9;

          printf (" %.3f | %.1f | %.1f %% |", seconds, gflops,
                  100 * gflops / peak);
        }
      printf ("\n");
    }
  printf ("\nGFLOP = 2 × the engine's MACs (refsr_lte_macs, "
          "refsr_search_macs: 256 + 9 per patch pair, refsr_transfer_macs, "
          "refsr_mainnet_macs); \"whole run\" includes the time outside the "
          "four stages.  Each column group is one run.\n\n");
}

typedef struct
{
  RefsrModel *model;
  const Case *bc;
  int threads;
  guint8 *lr_px, *ref_px;
  Canvas canvas;
} Bench;

/* One timed run; FALSE (message printed) if it failed. */
static gboolean
time_run (Bench *bench, Timing *t, double *total)
{
  GError *error = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  const Case *bc = bench->bc;
  RefsrResult *r;

  memset (t, 0, sizeof *t);
  options.n_threads = bench->threads;
  options.max_memory = bc->max_memory;
  options.search = bc->search;
  options.n_ref_scales = bc->n_ref_scales;
  options.progress = on_progress;
  options.progress_data = t;
  if (bc->streamed)
    {
      options.tile_done = keep_tile;
      options.tile_data = &bench->canvas;
    }
  t->start = t->stage_start = g_get_monotonic_time () / 1e6;
  r = refsr_run (bench->model,
                 &(RefsrImage){ bench->lr_px, bc->lr_w, bc->lr_h,
                                bc->lr_w * 3 },
                 &(RefsrImage){ bench->ref_px, bc->ref_w, bc->ref_h,
                                bc->ref_w * 3 },
                 &options, &error);
  *total = g_get_monotonic_time () / 1e6 - t->start;
  if (r == NULL)
    {
      fprintf (stderr, "refsr-bench: %s\n", error->message);
      g_error_free (error);
      return FALSE;
    }
  refsr_result_free (r);
  return TRUE;
}

static void
print_row (const Bench *bench, const StageMacs *macs, const Timing *t,
           double total)
{
  const Case *bc = bench->bc;
  double conv_macs = macs->features + macs->reconstruction;
  double search_macs = 256.0 * bc->lr_w * bc->lr_h * (double) (bc->ref_w / 4)
                       * (bc->ref_h / 4);

  char search_rate[32] = "n/a (fast)";

  /* the fast search does not do the exact one's products */
  if (bc->search != REFSR_SEARCH_FAST)
    g_snprintf (search_rate, sizeof search_rate, "%.1f",
                2 * search_macs / t->seconds[1] / 1e9);
  printf ("| %d×%d | %d×%d | %d | %.2f | %.0f | %.1f | %s | %.2f / %.2f / %.2f / %.2f | %.2f |\n",
          bc->lr_w, bc->lr_h, bc->ref_w, bc->ref_h, bench->threads, total,
          bench_peak_rss_kb () / 1024.0,
          2 * conv_macs / (t->seconds[0] + t->seconds[3]) / 1e9,
          search_rate, t->seconds[0], t->seconds[1], t->seconds[2],
          t->seconds[3], t->longest_gap);
  fprintf (stderr, "longest time without progress: %.2f s, from \"%s\" to "
           "\"%s\"\n", t->longest_gap, t->gap_from[0] ? t->gap_from : "start",
           t->gap_to);
  fflush (stdout);
}

/* The default backends' run gives the row; with the stage table, one more
 * run per GEMM backend built, fastest expected first (not for the large
 * case: a run there takes minutes). */
static int
run_one (const char *weights, const Case *bc, int threads, Printing printing)
{
  GError *error = NULL;
  Bench bench = { refsr_model_load (weights, &error), bc, threads, NULL,
                  NULL, { NULL, 4 * bc->lr_w } };
  RefsrConfig config;
  RefsrGemmBackend backends[REFSR_GEMM_N_BACKENDS + 1];
  Timing t[REFSR_GEMM_N_BACKENDS + 1];
  double total[REFSR_GEMM_N_BACKENDS + 1], peak = 0.0;
  const char *isa = "";
  int n_backends = 0, status = 0;

  if (bench.model == NULL)
    {
      fprintf (stderr, "refsr-bench: %s\n", error->message);
      return 1;
    }
  refsr_model_get_config (bench.model, &config);
  StageMacs macs = stage_macs (bc, &config);
  bench.lr_px = bench_texture (bc->lr_w, bc->lr_h, 1);
  bench.ref_px = bench_texture (bc->ref_w, bc->ref_h, 2);
  if (bc->streamed)
    bench.canvas.pixels = g_malloc ((gsize) 16 * bc->lr_w * bc->lr_h * 3);
  /* the engine's own choice first, then everything on one backend */
  backends[n_backends++] = REFSR_GEMM_N_BACKENDS;
  if (printing != PRINT_ROW && !bc->streamed)
    for (int b = REFSR_GEMM_N_BACKENDS - 1; b >= 0; b--)
      if (refsr_sgemm_backend_built (b))
        backends[n_backends++] = b;

  /* Before and after the runs: the cores are shared, take the better. */
  if (printing != PRINT_ROW)
    peak = fma_peak_gflops (threads, &isa);
  for (int b = 0; b < n_backends && status == 0; b++)
    {
      refsr_sgemm_use (backends[b]);
      if (!time_run (&bench, &t[b], &total[b]))
        status = 1;
      else if (b == 0)
        {
          if (printing == PRINT_ALL)
            print_table_header ();
          print_row (&bench, &macs, &t[0], total[0]);
        }
    }
  refsr_sgemm_use (REFSR_GEMM_N_BACKENDS);
  if (printing != PRINT_ROW && status == 0)
    {
      peak = MAX (peak, fma_peak_gflops (threads, NULL));
      print_stages (&macs, t, total, backends, n_backends, peak, isa,
                    threads);
    }
  refsr_model_free (bench.model);
  g_free (bench.canvas.pixels);
  g_free (bench.lr_px);
  g_free (bench.ref_px);
  return status;
}

int
main (int argc, char **argv)
{
  const char *weights = argc > 1 ? argv[1] : NULL;
  int threads = argc > 2 ? atoi (argv[2]) : 2;
  static const int sizes[] = { 40, 80, 120 };

  if (weights == NULL)
    {
      fprintf (stderr, "usage: refsr-bench WEIGHTS [THREADS [SIZE|large|"
                       "fast-large]]\n"
                       "  WEIGHTS: a default-config (16+16+8+4) model, e.g. "
                       "../shared/fixtures/ttsr/weights-16+16+8+4-seed2.safetensors\n");
      return 2;
    }
  if (argc > 3 && strcmp (argv[3], "large") == 0)
    {
      Case large = { 1000, 750, 1000, 1000, G_GUINT64_CONSTANT (1) << 30,
                     TRUE, REFSR_SEARCH_EXACT, 0 };

      printf ("LR 1000×750 (12 MP result), reference 1000², exact search, "
              "max_memory 1 GiB, tiles handed out into an 8-bit canvas:\n");
      return run_one (weights, &large, threads, PRINT_ALL);
    }
  if (argc > 3 && strcmp (argv[3], "fast-large") == 0)
    {
      /* the command's defaults on this case: its budget (half of the
       * memory, at most 4 GiB) and reference scales auto */
      Case large = { 1000, 750, 4000, 3000, G_GUINT64_CONSTANT (4) << 30,
                     TRUE, REFSR_SEARCH_FAST, REFSR_REF_SCALES_AUTO };

      printf ("LR 1000×750 (12 MP result), reference 4000×3000 (12 MP) at "
              "scales 1, 0.71 and 0.5, fast search, max_memory 4 GiB, "
              "tiles handed out into an 8-bit canvas:\n");
      return run_one (weights, &large, threads, PRINT_ALL);
    }
  if (argc > 3)
    {
      int size = atoi (argv[3]);
      Case square = { size, size, 4 * size, 4 * size, 0, FALSE,
                      REFSR_SEARCH_EXACT, 0 };

      /* A fifth argument: called by the loop below for one row. */
      Printing printing = argc <= 4 ? PRINT_ALL
                          : strcmp (argv[4], "stages") == 0 ? PRINT_ROW_STAGES
                          : PRINT_ROW;

      return run_one (weights, &square, threads, printing);
    }
  printf ("GEMM backends: %s (convolutions), %s (search)\n\n",
          refsr_sgemm_backend (),
          refsr_sgemm_backend_name (refsr_sgemm_fastest ()));
  print_table_header ();
  fflush (stdout);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      char size[16], nthreads[16];
      pid_t pid;
      int status;
      g_snprintf (size, sizeof size, "%d", sizes[i]);
      g_snprintf (nthreads, sizeof nthreads, "%d", threads);
      pid = fork ();
      if (pid == 0)
        {
          /* the stage table follows the last (largest, standard) size */
          execl ("/proc/self/exe", argv[0], weights, nthreads, size,
                 i + 1 == G_N_ELEMENTS (sizes) ? "stages" : "row", NULL);
          _exit (127);
        }
      if (pid < 0 || waitpid (pid, &status, 0) < 0 || !WIFEXITED (status)
          || WEXITSTATUS (status) != 0)
        return 1;
    }
  printf ("\n* the table's search GFLOP/s counts the 256-deep pixel-pair products "
          "(2·256·P·Q FLOP) the engine performs; the official formulation "
          "does 9× more (2·2304·P·Q).\n");
  return 0;
}
