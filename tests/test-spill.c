/* test-spill.c — tensors in an unlinked temporary file (spill.h): their
 * data round-trips, survives a release of its pages, reads as zeros at
 * first and leaves the process when cleared; the file never shows in
 * TMPDIR; a folder that cannot take it gives a GError that says what to
 * do; and the reference's features built spilled equal those built on
 * the heap, bit for bit.
 *
 *   test-spill BUILD-DIR   (lr.png, ref.png from refsr-make-demo; TMPDIR
 *                           is set to BUILD-DIR/spill-tmp, made empty)
 *
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fixture.h"
#include "image-io.h"
#include "plan.h"
#include "reference.h"
#include "spill.h"

static char *build_dir;
static char *spill_dir;

static int
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* Lines of /proc/self/maps that map a file of dir (a mapped file that
 * has been unlinked still shows there, with " (deleted)"). */
static int
count_mappings (const char *dir)
{
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *prefix = g_strconcat (" ", dir, "/", NULL);
  int n = 0;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return -1;
  lines = g_strsplit (maps, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    n += strstr (*l, prefix) != NULL;
  return n;
}

/* kB of file-backed and shared-memory pages resident, from
 * /proc/self/status (-1 where it cannot be read) */
static long
resident_mapped_kb (void)
{
  g_autofree char *status = NULL;
  long total = 0;
  int found = 0;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  for (const char *key = "RssFile:"; key != NULL;
       key = strcmp (key, "RssFile:") == 0 ? "RssShmem:" : NULL)
    {
      const char *p = strstr (status, key);

      if (p != NULL)
        {
          total += strtol (p + strlen (key), NULL, 10);
          found++;
        }
    }
  return found == 2 ? total : -1;
}

static void
test_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  RefsrTensor a = { 3, 5, 7, NULL, 0 }, b = { 1, 1, 1, NULL, 0 };
  RefsrTensor big = { 4, 1024, 1024, NULL, 0 };  /* 16 MiB */
  RefsrTensor *all[] = { &a, &b, &big };
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  long before, touched, released;

  g_assert_true (refsr_spill_alloc (all, G_N_ELEMENTS (all), NULL, &error));
  g_assert_no_error (error);
  before = resident_mapped_kb ();  /* nothing touched yet */
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      gsize n = refsr_tensor_numel (all[i]);

      g_assert_nonnull (all[i]->data);
      g_assert_cmpuint ((guintptr) all[i]->data % page, ==, 0);
      g_assert_cmpuint (all[i]->mapped, >=, n * sizeof (float));
      g_assert_cmpuint (all[i]->mapped % page, ==, 0);
      for (gsize k = 0; k < n; k++)
        g_assert_cmpfloat (all[i]->data[k], ==, 0.0f);
    }
  /* nothing in the folder, while the file is mapped three times */
  g_assert_cmpint (count_entries (spill_dir), ==, 0);
  g_assert_cmpint (count_mappings (spill_dir), ==, 3);

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    for (gsize k = 0; k < refsr_tensor_numel (all[i]); k++)
      all[i]->data[k] = (float) (k * 7 + i) * 0.25f;
  touched = resident_mapped_kb ();
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    refsr_tensor_release_pages (all[i]);
  released = resident_mapped_kb ();
  g_test_message ("resident file pages: %ld kB, %ld kB read and written, "
                  "%ld kB released", before, touched, released);
  if (before >= 0)
    {
      /* the 16 MiB came in when used and went out when released */
      g_assert_cmpint (touched - before, >=, 12 * 1024);
      g_assert_cmpint (touched - released, >=, 12 * 1024);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    for (gsize k = 0; k < refsr_tensor_numel (all[i]); k++)
      g_assert_cmpfloat (all[i]->data[k], ==, (float) (k * 7 + i) * 0.25f);

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      RefsrTensor zero = { 0 };

      refsr_tensor_clear (all[i]);
      g_assert_cmpmem (all[i], sizeof *all[i], &zero, sizeof zero);
      refsr_tensor_clear (all[i]);  /* twice is harmless */
    }
  g_assert_cmpint (count_mappings (spill_dir), ==, 0);
  g_assert_cmpint (count_entries (spill_dir), ==, 0);

  /* a heap tensor: releasing its pages changes nothing */
  g_assert_true (refsr_tensor_alloc (&a, 1, 2, 2, &error));
  a.data[3] = 42.0f;
  refsr_tensor_release_pages (&a);
  g_assert_cmpfloat (a.data[3], ==, 42.0f);
  g_assert_cmpuint (a.mapped, ==, 0);
  refsr_tensor_clear (&a);
}

static void
expect_refusal (const char *dir, RefsrTensor *t, const char *why)
{
  g_autoptr (GError) error = NULL;
  RefsrTensor *all[] = { t };

  g_assert_false (refsr_spill_alloc (all, 1, dir, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_IO);
  g_test_message ("%s: %s", why, error->message);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_nonnull (strstr (error->message, "MB"));
  g_assert_nonnull (strstr (error->message, "TMPDIR"));
  g_assert_null (t->data);
  g_assert_cmpuint (t->mapped, ==, 0);
}

/* Folders that cannot take the file, and a file too large for any. */
static void
test_unwritable (void)
{
  RefsrTensor t = { 2, 3, 4, NULL, 0 };
  RefsrTensor huge = { 65536, 65536, 65536, NULL, 0 };  /* 1 PiB */
  g_autofree char *missing = g_build_filename (build_dir, "spill-missing",
                                               "sub", NULL);
  g_autofree char *file = g_build_filename (build_dir, "spill-not-a-folder",
                                            NULL);
  g_autofree char *locked = g_build_filename (build_dir, "spill-locked",
                                              NULL);

  expect_refusal (missing, &t, "missing folder");
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  expect_refusal (file, &t, "not a folder");
  g_unlink (file);
  expect_refusal (spill_dir, &huge, "too large");
  g_assert_cmpint (count_entries (spill_dir), ==, 0);

  g_mkdir_with_parents (locked, 0755);
  g_assert_cmpint (g_chmod (locked, 0555), ==, 0);
  if (access (locked, W_OK) == 0)
    g_test_message ("%s stays writable (running as root?): its case is "
                    "not checked", locked);
  else
    expect_refusal (locked, &t, "read-only folder");
  g_chmod (locked, 0755);
  g_rmdir (locked);
}

typedef struct
{
  int strips;
  int entries;  /* the most TMPDIR held during the build */
  int mappings; /* the fewest spill mappings seen after a strip */
  long resident_kb; /* the most file pages resident after a strip */
} BuildWatch;

static void
watch_strip (double macs, void *data)
{
  BuildWatch *w = data;

  w->strips++;
  w->entries = MAX (w->entries, count_entries (spill_dir));
  w->mappings = MIN (w->mappings, count_mappings (spill_dir));
  w->resident_kb = MAX (w->resident_kb, resident_mapped_kb ());
}

/* The reference's features built spilled, whole and in strips, equal
 * those built on the heap; the temporary file never shows in TMPDIR. */
static void
test_reference (void)
{
  static const int strips[] = { 0, 8 };
  g_autoptr (RefsrModel) model = fixture_model ("weights-1+1+1+1-seed1.safetensors");
  g_autoptr (GError) error = NULL;
  g_autofree char *ref_path = g_build_filename (build_dir, "ref.png", NULL);
  RefsrExec exec = { .n_threads = 2 };
  RefsrIoImage file;
  RefsrReferenceData heap;
  RefsrImage ref;

  g_assert_true (refsr_io_load_image (ref_path, NULL, &file, &error));
  /* 256×256 of the reference, as test-tiling takes it */
  g_assert_cmpint (file.width, >=, 256);
  g_assert_cmpint (file.height, >=, 256);
  ref = (RefsrImage) { file.pixels, 256, 256, file.width * 3 };
  g_assert_true (refsr_reference_data_build (&heap, &model->lte, ref.pixels,
                                             ref.width, ref.height,
                                             ref.rowstride, 0, NULL, NULL,
                                             &exec, &error));
  g_assert_false (heap.spilled);
  for (gsize i = 0; i < G_N_ELEMENTS (strips); i++)
    {
      RefsrReferenceData spilled;
      BuildWatch watch = { 0, 0, G_MAXINT, 0 };
      const RefsrTensor *a[] = { &heap.key, &heap.value.lv1,
                                 &heap.value.lv2, &heap.value.lv3 };
      const RefsrTensor *b[] = { &spilled.key, &spilled.value.lv1,
                                 &spilled.value.lv2, &spilled.value.lv3 };

      g_assert_true (refsr_reference_data_build_full (&spilled, &model->lte,
                                                      ref.pixels, ref.width,
                                                      ref.height,
                                                      ref.rowstride,
                                                      strips[i], TRUE, NULL,
                                                      watch_strip, &watch,
                                                      &exec, &error));
      g_assert_no_error (error);
      g_test_message ("strips of %d rows: %d strips, TMPDIR held at most %d "
                      "entries, at least %d mappings, at most %ld kB of "
                      "file pages resident after a strip", strips[i],
                      watch.strips, watch.entries, watch.mappings,
                      watch.resident_kb);
      g_assert_true (spilled.spilled);
      g_assert_cmpint (watch.entries, ==, 0);
      g_assert_cmpint (watch.mappings, ==, 4);
      for (int pass = 0; pass < 2; pass++)
        {
          /* equal as built, and again read back after a release */
          for (gsize k = 0; k < G_N_ELEMENTS (a); k++)
            {
              g_assert_cmpuint (b[k]->mapped, >, 0);
              g_assert_cmpint (b[k]->c, ==, a[k]->c);
              g_assert_cmpint (b[k]->h, ==, a[k]->h);
              g_assert_cmpint (b[k]->w, ==, a[k]->w);
              g_assert_cmpmem (a[k]->data,
                               refsr_tensor_numel (a[k]) * sizeof (float),
                               b[k]->data,
                               refsr_tensor_numel (b[k]) * sizeof (float));
            }
          refsr_reference_data_release_pages (&spilled);
        }
      refsr_reference_data_clear (&spilled);
      g_assert_false (spilled.spilled);
      g_assert_cmpint (count_mappings (spill_dir), ==, 0);
      g_assert_cmpint (count_entries (spill_dir), ==, 0);
    }

  /* the heap build ignores the release */
  refsr_reference_data_release_pages (&heap);
  g_assert_cmpuint (heap.key.mapped, ==, 0);

  /* a spill folder that is not there: a clear error, nothing left */
  {
    RefsrReferenceData failed;
    g_autofree char *missing = g_build_filename (build_dir, "spill-missing",
                                                 NULL);

    g_assert_false (refsr_reference_data_build_full (&failed, &model->lte,
                                                     ref.pixels, ref.width,
                                                     ref.height,
                                                     ref.rowstride, 0, TRUE,
                                                     missing, NULL, NULL,
                                                     &exec, &error));
    g_assert_error (error, REFSR_ERROR, REFSR_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "TMPDIR"));
    g_assert_null (failed.key.data);
    g_assert_null (failed.value.lv1.data);
  }
  refsr_reference_data_clear (&heap);
  refsr_io_image_clear (&file);
}

/* The plan spills a reference whose features take more than half the
 * budget, and then fits a run that it used to refuse; a smaller
 * reference, or no budget, stays on the heap. */
/* refsr_run_plan with a budget and otherwise the default options */
static gboolean
plan_run (const RefsrConfig *config, int lr_w, int lr_h, int ref_w,
          int ref_h, int threads, guint64 budget, RefsrRunPlan *plan,
          GError **error)
{
  RefsrOptions options = REFSR_OPTIONS_INIT;
  RefsrSize ref = { ref_w, ref_h };

  options.max_memory = budget;
  return refsr_run_plan (config, lr_w, lr_h, &ref, 1, threads, &options, -1,
                         plan, error);
}

static void
test_plan (void)
{
  g_autoptr (RefsrModel) model = fixture_model ("weights-16+16+8+4-seed2.safetensors");
  g_autoptr (GError) error = NULL;
  guint64 budget = G_GUINT64_CONSTANT (4) << 30;
  RefsrConfig config;
  RefsrRunPlan plan;

  refsr_model_get_config (model, &config);
  /* 4000×3000: about 6 GB of features in a 4 GiB budget */
  g_assert_cmpfloat (refsr_reference_data_bytes (4000, 3000), >, budget);
  for (int threads = 1; threads <= 16; threads *= 4)
    {
      g_assert_true (plan_run (&config, 1000, 750, 4000, 3000, threads,
                               budget, &plan, &error));
      g_assert_no_error (error);
      g_test_message ("LR 1000×750, reference 4000×3000, %d threads, "
                      "4 GiB: spilled, tiles of %d, peak %.0f MB",
                      threads, plan.tile_size, plan.peak_bytes / 1048576.0);
      g_assert_true (plan.spill_reference);
      g_assert_cmpfloat (plan.peak_bytes, <=, budget);
      g_assert_cmpint (plan.tile_size, >=, 16);
    }

  /* just above half the budget spills, just below does not */
  budget = (guint64) (2.0 * refsr_reference_data_bytes (2000, 1500));
  g_assert_true (plan_run (&config, 500, 375, 2000, 1500, 2,
                           budget + (1 << 24), &plan, &error));
  g_assert_false (plan.spill_reference);
  g_assert_false (refsr_plan_spill_reference (&(RefsrSize) { 2000, 1500 }, 1,
                                              budget + (1 << 24)));
  g_assert_true (plan_run (&config, 500, 375, 2000, 1500, 2,
                           budget - (1 << 24), &plan, &error));
  g_assert_true (plan.spill_reference);
  g_assert_true (refsr_plan_spill_reference (&(RefsrSize) { 2000, 1500 }, 1,
                                             budget - (1 << 24)));

  /* no budget: the heap, whatever the size */
  g_assert_true (plan_run (&config, 100, 75, 4000, 3000, 2, 0, &plan,
                           &error));
  g_assert_false (plan.spill_reference);
  g_assert_cmpfloat (plan.peak_bytes, >,
                     refsr_reference_data_bytes (4000, 3000));

  /* a budget too small for the rest still refuses, and says it spilled */
  g_assert_false (plan_run (&config, 1000, 750, 4000, 3000, 2,
                            G_GUINT64_CONSTANT (256) << 20, &plan, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "temporary file"));
}

int
main (int argc, char **argv)
{
  build_dir = g_canonicalize_filename (argc > 1 ? argv[argc - 1] : ".",
                                       NULL);
  /* before anything asks GLib for the temporary folder, which it keeps */
  spill_dir = g_canonicalize_filename ("spill-tmp", build_dir);
  {
    g_autoptr (GDir) d = NULL;
    const char *name;

    g_mkdir_with_parents (spill_dir, 0755);
    d = g_dir_open (spill_dir, 0, NULL);
    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (spill_dir, name, NULL);
        g_unlink (path);
      }
  }
  g_setenv ("TMPDIR", spill_dir, TRUE);
  g_test_init (&argc, &argv, NULL);
  refsr_io_init ();
  g_assert_cmpstr (g_get_tmp_dir (), ==, spill_dir);
  g_test_add_func ("/spill/round-trip", test_round_trip);
  g_test_add_func ("/spill/unwritable", test_unwritable);
  g_test_add_func ("/spill/reference", test_reference);
  g_test_add_func ("/spill/plan", test_plan);
  return g_test_run ();
}
