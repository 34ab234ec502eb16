/* fixture.c — access to the TTSR parity fixtures for the tests.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "fixture.h"

#include <math.h>
#include <string.h>

char *
fixture_path (const char *file)
{
  const char *dir = g_getenv ("REFSR_FIXTURES");
  return g_build_filename (dir != NULL ? dir : "../shared/fixtures/ttsr",
                           file, NULL);
}

Fixture *
fixture_open (const char *file)
{
  Fixture *f = g_new0 (Fixture, 1);
  GError *error = NULL;

  f->path = fixture_path (file);
  f->mapped = g_mapped_file_new (f->path, FALSE, &error);
  g_assert_no_error (error);
  f->index = refsr_safetensors_index (
      (const guint8 *) g_mapped_file_get_contents (f->mapped),
      g_mapped_file_get_length (f->mapped), file, &error);
  g_assert_no_error (error);
  return f;
}

void
fixture_close (Fixture *f)
{
  g_slist_free_full (f->aligned_copies, g_free);
  refsr_safetensors_index_free (f->index);
  g_mapped_file_unref (f->mapped);
  g_free (f->path);
  g_free (f);
}

/* Entries after odd-sized U8 ones start at odd file offsets; the tests
 * read them as float and int64 arrays, so they get an aligned copy. */
const RefsrSafetensorsItem *
fixture_item (Fixture *f, const char *name, const char *dtype)
{
  RefsrSafetensorsItem *item = g_hash_table_lookup (f->index->by_name, name);

  if (item == NULL)
    g_error ("fixture %s has no tensor %s", f->path, name);
  g_assert_cmpstr (item->dtype, ==, dtype);
  if ((guintptr) item->bytes % 8 != 0)
    {
      guint8 *copy = g_memdup2 (item->bytes, MAX (item->nbytes, 1));
      f->aligned_copies = g_slist_prepend (f->aligned_copies, copy);
      item->bytes = copy;
    }
  return item;
}

void
fixture_tensor (Fixture *f, const char *name, RefsrTensor *out)
{
  const RefsrSafetensorsItem *item = fixture_item (f, name, "F32");
  int dims[3] = { 1, 1, 1 };
  int n = item->ndim;

  /* drop a leading batch dimension of 1, keep the last three */
  g_assert_cmpint (n, >=, 1);
  g_assert_cmpint (n, <=, 4);
  if (n == 4)
    g_assert_cmpint (item->shape[0], ==, 1);
  for (int d = 0; d < MIN (n, 3); d++)
    dims[2 - d] = (int) item->shape[n - 1 - d];
  g_assert_true (refsr_tensor_alloc (out, dims[0], dims[1], dims[2], NULL));
  memcpy (out->data, item->bytes, item->nbytes);
}

const char *
fixture_meta (Fixture *f, const char *key)
{
  return g_hash_table_lookup (f->index->metadata, key);
}

double
max_abs_diff (const float *a, const float *b, gsize n, const guint8 *mask)
{
  double worst = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double d;
      if (mask != NULL && mask[i] == 0)
        continue;
      d = fabs ((double) a[i] - (double) b[i]);
      if (d > worst || isnan (d))
        worst = isnan (d) ? INFINITY : d;
    }
  return worst;
}

RefsrModel *
fixture_model (const char *weights_file)
{
  char *path = fixture_path (weights_file);
  GError *error = NULL;
  RefsrModel *model = refsr_model_load (path, &error);

  g_assert_no_error (error);
  g_free (path);
  return model;
}

RefsrImage
fixture_rgb (Fixture *f, const char *name)
{
  const RefsrSafetensorsItem *item = fixture_item (f, name, "U8");
  RefsrImage img = { item->bytes, (int) item->shape[1], (int) item->shape[0],
                     (int) item->shape[1] * 3 };
  return img;
}
