/* test-search.c — relevance search and texture transfer: the fast search
 * against the plain definition and the PyTorch fixtures (with the near-tie
 * rules of the fixtures README), the transfer bit-for-bit against PyTorch's
 * fold, thread-count independence, memory bound, cancellation.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "search.h"
#include "transfer.h"

/* Below this top-2 margin an independent implementation may pick the
 * other candidate (fixtures README, "Ties and near-ties"). */
#define MARGIN_EPS 1e-4

static const char *const case_files[] = {
  "case-a.safetensors", "case-b.safetensors", "case-c.safetensors",
  "case-d.safetensors", "case-e.safetensors",
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Post-ReLU-like random features: about half zeros, like LTE output. */
static void
random_features (RefsrTensor *t, int c, int h, int w, GRand *rand)
{
  g_assert_true (refsr_tensor_alloc (t, c, h, w, NULL));
  for (gsize i = 0; i < refsr_tensor_numel (t); i++)
    t->data[i] = MAX ((float) g_rand_double_range (rand, -1.0, 1.0), 0.0f);
}

static void
zero_rect (RefsrTensor *t, int y0, int x0, int h, int w)
{
  for (int c = 0; c < t->c; c++)
    for (int y = MAX (y0, 0); y < MIN (y0 + h, t->h); y++)
      for (int x = MAX (x0, 0); x < MIN (x0 + w, t->w); x++)
        t->data[((gsize) c * t->h + y) * t->w + x] = 0.0f;
}

/* Copies the 3×3 neighbourhood of (sy, sx) in src to that of (dy, dx) in
 * dst (all inside), making the two patches identical. */
static void
copy_patch (const RefsrTensor *src, int sy, int sx, RefsrTensor *dst, int dy,
            int dx)
{
  for (int c = 0; c < src->c; c++)
    for (int a = -1; a <= 1; a++)
      for (int b = -1; b <= 1; b++)
        dst->data[((gsize) c * dst->h + dy + a) * dst->w + dx + b]
          = src->data[((gsize) c * src->h + sy + a) * src->w + sx + b];
}

/* The zero-padded 3×3 patch around (y, x), in double, and its norm. */
static double
patch_double (const RefsrTensor *t, int y, int x, double *v)
{
  double sum_sq = 0.0;
  int n = 0;

  for (int c = 0; c < t->c; c++)
    for (int yy = y - 1; yy <= y + 1; yy++)
      for (int xx = x - 1; xx <= x + 1; xx++)
        {
          gboolean inside = yy >= 0 && yy < t->h && xx >= 0 && xx < t->w;
          v[n] = inside ? t->data[((gsize) c * t->h + yy) * t->w + xx] : 0.0;
          sum_sq += v[n] * v[n];
          n++;
        }
  return MAX (sqrt (sum_sq), 1e-12);
}

/* Top-2 margin of the cosine relevance over q for every p, computed
 * independently in double precision (0 on an exact tie). */
static double *
relevance_margins (const RefsrTensor *query, const RefsrTensor *key)
{
  int dim = 9 * query->c, n_keys = key->h * key->w;
  double *keys = g_new (double, (gsize) n_keys * dim);
  double *qv = g_new (double, dim);
  double *margin = g_new (double, query->h * query->w);

  for (int q = 0; q < n_keys; q++)
    {
      double *kv = keys + (gsize) q * dim;
      double norm = patch_double (key, q / key->w, q % key->w, kv);
      for (int i = 0; i < dim; i++)
        kv[i] /= norm;
    }
  for (int p = 0; p < query->h * query->w; p++)
    {
      double norm = patch_double (query, p / query->w, p % query->w, qv);
      double first = -INFINITY, second = -INFINITY;

      for (int q = 0; q < n_keys; q++)
        {
          double r = 0.0;
          for (int i = 0; i < dim; i++)
            r += qv[i] / norm * keys[(gsize) q * dim + i];
          if (r > first)
            {
              second = first;
              first = r;
            }
          else if (r > second)
            second = r;
        }
      margin[p] = n_keys > 1 ? first - second : INFINITY;
    }
  g_free (qv);
  g_free (keys);
  return margin;
}

static void
search_checked (const RefsrTensor *query, const RefsrTensor *key,
                int n_threads, gint64 *idx, float *S)
{
  RefsrExec exec = { .n_threads = n_threads };
  GError *error = NULL;

  g_assert_true (refsr_search (query, key, idx, S, &exec, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------ */
/* Fast search against the plain definition                           */

typedef struct
{
  int c, h, w, key_h, key_w;
} SearchSize;

static const SearchSize random_sizes[] = {
  { 256, 7, 5, 3, 11 },
  { 5, 7, 5, 3, 11 },
  { 5, 1, 1, 1, 1 },
  { 3, 1, 9, 4, 1 },
  /* several reference strips; several LR tiles */
  { 4, 33, 37, 9, 131 },
  { 3, 70, 65, 5, 9 },
};

/* Random features with the hard cases planted: all-zero regions on both
 * sides (a zero query patch has R = 0 for every q, an exact tie across all
 * keys, so idx must be 0), and two identical key patches with a query patch
 * equal to them (an exact tie at the maximum, which must go to the smaller
 * q).  Sets *tie_p, *tie_q to that query and key, or to -1 when the sizes
 * are too small to plant it. */
static void
make_search_inputs (const SearchSize *size, RefsrTensor *query,
                    RefsrTensor *key, int *tie_p, int *tie_q)
{
  GRand *rand = g_rand_new_with_seed (size->c * 1000 + size->key_w);

  random_features (query, size->c, size->h, size->w, rand);
  random_features (key, size->c, size->key_h, size->key_w, rand);
  zero_rect (query, 0, 0, 3, 4);
  zero_rect (key, size->key_h - 2, 0, 2, 3);
  *tie_p = *tie_q = -1;
  if (size->key_h >= 3 && size->key_w >= 8 && size->h >= 3 && size->w >= 3)
    {
      copy_patch (key, 1, size->key_w - 2, key, 1, 1);
      copy_patch (key, 1, 1, query, size->h - 2, size->w - 2);
      *tie_p = (size->h - 2) * size->w + size->w - 2;
      *tie_q = size->key_w + 1;
    }
  g_rand_free (rand);
}

static void
test_search_random (gconstpointer data)
{
  const SearchSize *size = data;
  RefsrTensor query, key;
  int n_p = size->h * size->w, tie_p, tie_q;

  make_search_inputs (size, &query, &key, &tie_p, &tie_q);

  gint64 *idx_ref = g_new (gint64, n_p), *idx1 = g_new (gint64, n_p);
  gint64 *idx2 = g_new (gint64, n_p);
  float *S_ref = g_new (float, n_p), *S1 = g_new (float, n_p);
  float *S2 = g_new (float, n_p);
  double *margin = relevance_margins (&query, &key);

  refsr_search_ref (&query, &key, idx_ref, S_ref);
  search_checked (&query, &key, 1, idx1, S1);
  search_checked (&query, &key, 2, idx2, S2);

  g_assert_cmpmem (idx1, n_p * sizeof (gint64), idx2, n_p * sizeof (gint64));
  g_assert_cmpmem (S1, n_p * sizeof (float), S2, n_p * sizeof (float));
  for (int p = 0; p < n_p; p++)
    {
      g_assert_cmpfloat_with_epsilon (S1[p], S_ref[p], 1e-5);
      if (margin[p] >= MARGIN_EPS)
        g_assert_cmpint (idx1[p], ==, idx_ref[p]);
    }
  /* The zeroed query corner: patches centred at (0..1, 0..2) are all zero. */
  for (int y = 0; y < MIN (2, size->h); y++)
    for (int x = 0; x < MIN (3, size->w); x++)
      {
        g_assert_cmpint (idx_ref[y * size->w + x], ==, 0);
        g_assert_cmpint (idx1[y * size->w + x], ==, 0);
        g_assert_cmpfloat (S1[y * size->w + x], ==, 0.0f);
      }
  if (tie_p >= 0)
    {
      g_assert_cmpint (idx_ref[tie_p], ==, tie_q);
      g_assert_cmpint (idx1[tie_p], ==, tie_q);
      g_assert_cmpfloat_with_epsilon (S1[tie_p], 1.0, 1e-6);
    }

  g_free (margin);
  g_free (idx_ref);
  g_free (idx1);
  g_free (idx2);
  g_free (S_ref);
  g_free (S1);
  g_free (S2);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
}

/* ------------------------------------------------------------------ */
/* Fast search against the PyTorch fixtures                           */

static void
test_search_fixture (gconstpointer data)
{
  Fixture *f = fixture_open (data);
  RefsrTensor query, key, S_fixture;
  const gint64 *idx_fixture
      = (const gint64 *) fixture_item (f, "idx", "I64")->bytes;
  const float *margin
      = (const float *) fixture_item (f, "margin", "F32")->bytes;
  double worst_stable = 0.0, worst_near_tie = 0.0;
  int n_near_ties = 0, n_flipped = 0;

  fixture_tensor (f, "lrsr_lv3", &query);
  fixture_tensor (f, "refsr_lv3", &key);
  fixture_tensor (f, "S", &S_fixture);

  int n_p = query.h * query.w;
  gint64 *idx = g_new (gint64, n_p);
  float *S = g_new (float, n_p);

  search_checked (&query, &key, 2, idx, S);
  for (int p = 0; p < n_p; p++)
    {
      double dS = fabs ((double) S[p] - S_fixture.data[p]);

      if (margin[p] >= MARGIN_EPS)
        {
          g_assert_cmpint (idx[p], ==, idx_fixture[p]);
          worst_stable = MAX (worst_stable, dS);
        }
      else
        {
          worst_near_tie = MAX (worst_near_tie, dS);
          n_near_ties++;
          n_flipped += idx[p] != idx_fixture[p];
        }
    }
  g_test_message ("%s: max |dS| %.3g where margin >= 1e-4, %.3g at the %d "
                  "near ties, of which %d have another idx",
                  (const char *) data, worst_stable, worst_near_tie,
                  n_near_ties, n_flipped);
  g_assert_cmpfloat (worst_stable, <=, 1e-5);
  g_assert_cmpfloat (worst_near_tie, <=, 1.1e-4);

  g_free (idx);
  g_free (S);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  refsr_tensor_clear (&S_fixture);
  fixture_close (f);
}

/* The plain definition against the fixture (small case only: it is slow). */
static void
test_search_ref_fixture (void)
{
  Fixture *f = fixture_open ("case-d.safetensors");
  RefsrTensor query, key, S_fixture;
  const gint64 *idx_fixture
      = (const gint64 *) fixture_item (f, "idx", "I64")->bytes;
  const float *margin
      = (const float *) fixture_item (f, "margin", "F32")->bytes;

  fixture_tensor (f, "lrsr_lv3", &query);
  fixture_tensor (f, "refsr_lv3", &key);
  fixture_tensor (f, "S", &S_fixture);

  int n_p = query.h * query.w;
  gint64 *idx = g_new (gint64, n_p);
  float *S = g_new (float, n_p);

  refsr_search_ref (&query, &key, idx, S);
  for (int p = 0; p < n_p; p++)
    {
      if (margin[p] >= MARGIN_EPS)
        g_assert_cmpint (idx[p], ==, idx_fixture[p]);
      g_assert_cmpfloat_with_epsilon (S[p], S_fixture.data[p],
                                      margin[p] >= MARGIN_EPS ? 1e-5 : 1.1e-4);
    }

  g_free (idx);
  g_free (S);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  refsr_tensor_clear (&S_fixture);
  fixture_close (f);
}

/* ------------------------------------------------------------------ */
/* Transfer                                                            */

static const char *const value_names[] = { "ref_lv3", "ref_lv2", "ref_lv1" };
static const char *const texture_names[] = { "T_lv3", "T_lv2", "T_lv1" };

static void
transfer_level (Fixture *f, int level, const gint64 *idx, int h, int w,
                gboolean reference, RefsrTensor *out)
{
  RefsrTensor value;
  int scale = 1 << level;
  RefsrExec exec = { .n_threads = 2 };

  fixture_tensor (f, value_names[level], &value);
  g_assert_true (refsr_tensor_alloc (out, value.c, scale * h, scale * w,
                                     NULL));
  if (reference)
    refsr_transfer_ref (&value, scale, idx, h, w, out);
  else
    refsr_transfer (&value, scale, idx, h, w, out, &exec);
  refsr_tensor_clear (&value);
}

/* The t_stable mask upsampled to one level's resolution, for all channels. */
static guint8 *
stable_mask (Fixture *f, int h, int w, int scale, int channels)
{
  const guint8 *stable = fixture_item (f, "t_stable", "U8")->bytes;
  gsize plane = (gsize) h * scale * w * scale;
  guint8 *mask = g_malloc (plane * channels);

  for (int y = 0; y < h * scale; y++)
    for (int x = 0; x < w * scale; x++)
      mask[(gsize) y * w * scale + x] = stable[(y / scale) * w + x / scale];
  for (int c = 1; c < channels; c++)
    memcpy (mask + c * plane, mask, plane);
  return mask;
}

/* With the fixture's idx, both transfers must reproduce PyTorch's fold
 * bit-for-bit; with our own idx, within 1e-5 where the indices are
 * stable. */
static void
test_transfer_fixture (gconstpointer data)
{
  Fixture *f = fixture_open (data);
  const gint64 *idx_fixture
      = (const gint64 *) fixture_item (f, "idx", "I64")->bytes;
  RefsrTensor query, key;

  fixture_tensor (f, "lrsr_lv3", &query);
  fixture_tensor (f, "refsr_lv3", &key);

  int h = query.h, w = query.w;
  gint64 *idx = g_new (gint64, h * w);
  float *S = g_new (float, h * w);

  search_checked (&query, &key, 2, idx, S);
  for (int level = 0; level < 3; level++)
    {
      const RefsrSafetensorsItem *expected
        = fixture_item (f, texture_names[level], "F32");
      RefsrTensor fast, ref, mine;

      transfer_level (f, level, idx_fixture, h, w, FALSE, &fast);
      transfer_level (f, level, idx_fixture, h, w, TRUE, &ref);
      g_assert_cmpmem (fast.data, refsr_tensor_numel (&fast) * sizeof (float),
                       expected->bytes, expected->nbytes);
      g_assert_cmpmem (ref.data, refsr_tensor_numel (&ref) * sizeof (float),
                       expected->bytes, expected->nbytes);

      transfer_level (f, level, idx, h, w, FALSE, &mine);
      guint8 *mask = stable_mask (f, h, w, 1 << level, mine.c);
      float *expected_values = g_memdup2 (expected->bytes, expected->nbytes);
      double diff = max_abs_diff (mine.data, expected_values,
                                  refsr_tensor_numel (&mine), mask);
      g_test_message ("%s %s with our idx: max |d| %.3g where t_stable",
                      (const char *) data, texture_names[level], diff);
      g_assert_cmpfloat (diff, <=, 1e-5);

      g_free (expected_values);
      g_free (mask);
      refsr_tensor_clear (&fast);
      refsr_tensor_clear (&ref);
      refsr_tensor_clear (&mine);
    }

  g_free (idx);
  g_free (S);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  fixture_close (f);
}

/* Random values and indices on odd sizes, every scale: the fast transfer
 * equals the reference bit-for-bit, for 1 and 3 threads. */
static void
test_transfer_random (void)
{
  GRand *rand = g_rand_new_with_seed (7);
  static const int sizes[][4] = { /* h, w, key_h, key_w */
    { 5, 7, 3, 4 }, { 1, 1, 1, 1 }, { 9, 2, 1, 13 }, { 11, 13, 6, 5 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int scale = 1; scale <= 4; scale *= 2)
      {
        int h = sizes[i][0], w = sizes[i][1];
        int key_h = sizes[i][2], key_w = sizes[i][3];
        RefsrTensor value, ref, fast1, fast3;
        gint64 *idx = g_new (gint64, h * w);

        g_assert_true (refsr_tensor_alloc (&value, 3, scale * key_h,
                                           scale * key_w, NULL));
        for (gsize j = 0; j < refsr_tensor_numel (&value); j++)
          value.data[j] = (float) g_rand_double_range (rand, -1.0, 3.0);
        for (int p = 0; p < h * w; p++)
          idx[p] = g_rand_int_range (rand, 0, key_h * key_w);
        g_assert_true (refsr_tensor_alloc (&ref, 3, scale * h, scale * w,
                                           NULL));
        g_assert_true (refsr_tensor_alloc (&fast1, 3, scale * h, scale * w,
                                           NULL));
        g_assert_true (refsr_tensor_alloc (&fast3, 3, scale * h, scale * w,
                                           NULL));

        refsr_transfer_ref (&value, scale, idx, h, w, &ref);
        refsr_transfer (&value, scale, idx, h, w, &fast1,
                        &(RefsrExec) { .n_threads = 1 });
        refsr_transfer (&value, scale, idx, h, w, &fast3,
                        &(RefsrExec) { .n_threads = 3 });
        gsize bytes = refsr_tensor_numel (&ref) * sizeof (float);
        g_assert_cmpmem (fast1.data, bytes, ref.data, bytes);
        g_assert_cmpmem (fast3.data, bytes, ref.data, bytes);

        g_free (idx);
        refsr_tensor_clear (&value);
        refsr_tensor_clear (&ref);
        refsr_tensor_clear (&fast1);
        refsr_tensor_clear (&fast3);
      }
  g_rand_free (rand);
}

/* ------------------------------------------------------------------ */
/* Promises of the interface                                           */

/* Memory grows with P + Q: the scratch for LR 120² against a 480² reference
 * (P = Q = 14400, C = 256) stays far below the official 0.77 GB matrix. */
static void
test_search_scratch (void)
{
  gsize small = refsr_search_scratch_bytes (256, 120, 120, 120, 120, 2);
  gsize big = refsr_search_scratch_bytes (256, 240, 240, 240, 240, 2);

  g_test_message ("scratch for P = Q = 14400: %.1f MB", small / 1e6);
  g_assert_cmpuint (small, <, 64 * 1000 * 1000);
  /* 4× the positions on each side: 16× the pairs, about 4× the memory. */
  g_assert_cmpuint (big, <, 5 * small);
}

static void
test_search_cancel (void)
{
  GRand *rand = g_rand_new_with_seed (3);
  RefsrTensor query, key;
  atomic_int cancel = 1;
  RefsrExec exec = { .n_threads = 2, .cancel = &cancel };
  GError *error = NULL;
  gint64 idx[6 * 40];
  float S[6 * 40];

  random_features (&query, 8, 6, 40, rand);
  random_features (&key, 8, 5, 5, rand);
  g_assert_false (refsr_search (&query, &key, idx, S, &exec, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED);
  g_clear_error (&error);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  g_rand_free (rand);
}

static void
test_search_invalid (void)
{
  float data[16] = { 0 };
  RefsrTensor query = { 2, 2, 2, data, 0 }, key = { 1, 2, 2, data, 0 };
  RefsrExec exec = { .n_threads = 1 };
  GError *error = NULL;
  gint64 idx[4];
  float S[4];

  g_assert_false (refsr_search (&query, &key, idx, S, &exec, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (random_sizes); i++)
    {
      const SearchSize *s = &random_sizes[i];
      char *name = g_strdup_printf ("/search/random/%dx%dx%d-vs-%dx%d", s->c,
                                    s->h, s->w, s->key_h, s->key_w);
      g_test_add_data_func (name, s, test_search_random);
      g_free (name);
    }
  for (guint i = 0; i < G_N_ELEMENTS (case_files); i++)
    {
      char *name = g_strdup_printf ("/search/fixture/%s", case_files[i]);
      g_test_add_data_func (name, case_files[i], test_search_fixture);
      g_free (name);
      name = g_strdup_printf ("/transfer/fixture/%s", case_files[i]);
      g_test_add_data_func (name, case_files[i], test_transfer_fixture);
      g_free (name);
    }
  g_test_add_func ("/search/reference-fixture", test_search_ref_fixture);
  g_test_add_func ("/transfer/random", test_transfer_random);
  g_test_add_func ("/search/scratch-size", test_search_scratch);
  g_test_add_func ("/search/cancel", test_search_cancel);
  g_test_add_func ("/search/invalid", test_search_invalid);
  return g_test_run ();
}
