/* test-search-fast.c — the near-linear relevance search: finds planted
 * matches, S is the exact cosine of what it picks, never beats the exact
 * search, is deterministic and thread-count independent, honours cancel,
 * and survives degenerate sizes.
 *
 * Copyright (C) 2026 the refsr authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "search-fast.h"
#include "search.h"

/* |S - cosine computed in double|: S is a float cosine of 9·C products. */
#define COSINE_TOLERANCE 2e-6
/* What the exact search's S can be off by (test-search.c's bound). */
#define EXACT_TOLERANCE 1e-5

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Post-ReLU-like white noise: about half zeros, like LTE output. */
static void
random_features (RefsrTensor *t, int c, int h, int w, GRand *rand)
{
  g_assert_true (refsr_tensor_alloc (t, c, h, w, NULL));
  for (gsize i = 0; i < refsr_tensor_numel (t); i++)
    t->data[i] = MAX ((float) g_rand_double_range (rand, -1.0, 1.0), 0.0f);
}

/* Spatially smooth post-ReLU features (noise box-blurred 5×5 per
 * channel), closer to LTE features of a photo than white noise. */
static void
smooth_features (RefsrTensor *t, int c, int h, int w, GRand *rand)
{
  float *noise = g_new (float, (gsize) h * w);

  g_assert_true (refsr_tensor_alloc (t, c, h, w, NULL));
  for (int ch = 0; ch < c; ch++)
    {
      for (int i = 0; i < h * w; i++)
        noise[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            float sum = 0.0f;

            for (int yy = MAX (y - 2, 0); yy <= MIN (y + 2, h - 1); yy++)
              for (int xx = MAX (x - 2, 0); xx <= MIN (x + 2, w - 1); xx++)
                sum += noise[yy * w + xx];
            t->data[((gsize) ch * h + y) * w + x] = MAX (sum / 25.0f + 0.05f,
                                                         0.0f);
          }
    }
  g_free (noise);
}

/* dst = the h×w window of src at (y0, x0). */
static void
crop (const RefsrTensor *src, int y0, int x0, int h, int w, RefsrTensor *dst)
{
  g_assert_true (refsr_tensor_alloc (dst, src->c, h, w, NULL));
  for (int c = 0; c < src->c; c++)
    for (int y = 0; y < h; y++)
      memcpy (dst->data + ((gsize) c * h + y) * w,
              src->data + ((gsize) c * src->h + y0 + y) * src->w + x0,
              w * sizeof (float));
}

/* The cosine of query position p and key position q, in double. */
static double
cosine_double (const RefsrTensor *query, int p, const RefsrTensor *key,
               gint64 q)
{
  int y = p / query->w, x = p % query->w;
  int qy = (int) (q / key->w), qx = (int) (q % key->w);
  double dot = 0.0, nq = 0.0, nk = 0.0;

  for (int c = 0; c < query->c; c++)
    for (int a = -1; a <= 1; a++)
      for (int b = -1; b <= 1; b++)
        {
          int yy = y + a, xx = x + b, ky = qy + a, kx = qx + b;
          double u = yy >= 0 && yy < query->h && xx >= 0 && xx < query->w
                     ? query->data[((gsize) c * query->h + yy) * query->w + xx]
                     : 0.0;
          double v = ky >= 0 && ky < key->h && kx >= 0 && kx < key->w
                     ? key->data[((gsize) c * key->h + ky) * key->w + kx]
                     : 0.0;

          dot += u * v;
          nq += u * u;
          nk += v * v;
        }
  return dot / (MAX (sqrt (nq), 1e-12) * MAX (sqrt (nk), 1e-12));
}

typedef struct
{
  gint64 *idx;
  float *S;
  int n;
} Result;

static Result
result_new (const RefsrTensor *query)
{
  Result r = { g_new (gint64, query->h * query->w),
               g_new (float, query->h * query->w), query->h * query->w };
  return r;
}

static void
result_clear (Result *r)
{
  g_free (r->idx);
  g_free (r->S);
}

static void
assert_results_equal (const Result *a, const Result *b)
{
  g_assert_cmpmem (a->idx, a->n * sizeof (gint64), b->idx,
                   b->n * sizeof (gint64));
  g_assert_cmpmem (a->S, a->n * sizeof (float), b->S, b->n * sizeof (float));
}

static Result
search_fast_checked (const RefsrTensor *query, const RefsrTensor *key,
                     const RefsrSearchFastParams *params, int n_threads)
{
  RefsrExec exec = { .n_threads = n_threads };
  GError *error = NULL;
  Result r = result_new (query);

  g_assert_true (refsr_search_fast_full (query, key, params, r.idx, r.S,
                                         &exec, &error));
  g_assert_no_error (error);
  return r;
}

static Result
search_exact_checked (const RefsrTensor *query, const RefsrTensor *key)
{
  RefsrExec exec = { .n_threads = 2 };
  GError *error = NULL;
  Result r = result_new (query);

  g_assert_true (refsr_search (query, key, r.idx, r.S, &exec, &error));
  g_assert_no_error (error);
  return r;
}

/* Every S is the cosine of the patch picked, and never beats the exact
 * search's best beyond rounding. */
static void
assert_honest (const RefsrTensor *query, const RefsrTensor *key,
               const Result *fast, const Result *exact)
{
  for (int p = 0; p < fast->n; p++)
    {
      g_assert_cmpint (fast->idx[p], >=, 0);
      g_assert_cmpint (fast->idx[p], <, key->h * key->w);
      g_assert_cmpfloat_with_epsilon (fast->S[p],
                                      cosine_double (query, p, key,
                                                     fast->idx[p]),
                                      COSINE_TOLERANCE);
      g_assert_cmpfloat (fast->S[p], <=, exact->S[p] + EXACT_TOLERANCE);
    }
}

/* ------------------------------------------------------------------ */
/* Planted matches                                                     */

typedef struct
{
  gboolean smooth;
  int c, key_h, key_w, h, w, y0, x0;
  int pool_factor;
} Planted;

static const Planted planted_cases[] = {
  { TRUE, 32, 40, 48, 20, 24, 7, 13, 2 },
  { FALSE, 32, 40, 48, 20, 24, 7, 13, 2 },
  { TRUE, 16, 61, 35, 17, 29, 30, 5, 3 },
};

/* The query is a crop of the key: every position off the query's border
 * has a patch equal to the key's at the planted offset (S = 1, unique for
 * random features).  Border positions see the query's zero padding where
 * the key has features, so their best match is elsewhere: there only the
 * honesty of S is asserted. */
static void
test_planted (gconstpointer data)
{
  const Planted *pc = data;
  GRand *rand = g_rand_new_with_seed (pc->key_h * 100 + pc->smooth);
  RefsrTensor key, query;

  if (pc->smooth)
    smooth_features (&key, pc->c, pc->key_h, pc->key_w, rand);
  else
    random_features (&key, pc->c, pc->key_h, pc->key_w, rand);
  crop (&key, pc->y0, pc->x0, pc->h, pc->w, &query);
  /* sizes this small get the exact search by default: the pooling is
   * forced, so that the refinement has to find the matches */
  RefsrSearchFastParams params = { .pool_factor = pc->pool_factor };
  Result fast = search_fast_checked (&query, &key, &params, 2);
  Result exact = search_exact_checked (&query, &key);

  for (int y = 1; y < pc->h - 1; y++)
    for (int x = 1; x < pc->w - 1; x++)
      {
        int p = y * pc->w + x;
        gint64 planted = (gint64) (y + pc->y0) * pc->key_w + x + pc->x0;

        g_assert_cmpint (exact.idx[p], ==, planted);
        g_assert_cmpint (fast.idx[p], ==, planted);
        g_assert_cmpfloat_with_epsilon (fast.S[p], 1.0, COSINE_TOLERANCE);
      }
  assert_honest (&query, &key, &fast, &exact);

  result_clear (&fast);
  result_clear (&exact);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------ */
/* No planted structure                                                */

/* Unrelated random maps (the pooling forced, as the sizes are small): the
 * fast search's mean S stays close to the exact one's on smooth features;
 * on white noise, where neighbouring positions' matches tell nothing, it
 * is a random search and falls further behind.  Deterministic and the
 * same for 1 and 2 threads. */
static void
test_unstructured (gconstpointer data)
{
  gboolean smooth = GPOINTER_TO_INT (data);
  GRand *rand = g_rand_new_with_seed (11 + smooth);
  RefsrTensor key, query;

  if (smooth)
    {
      smooth_features (&key, 32, 44, 52, rand);
      smooth_features (&query, 32, 23, 27, rand);
    }
  else
    {
      random_features (&key, 32, 44, 52, rand);
      random_features (&query, 32, 23, 27, rand);
    }

  RefsrSearchFastParams params = { .pool_factor = 2 };
  Result one = search_fast_checked (&query, &key, &params, 1);
  Result two = search_fast_checked (&query, &key, &params, 2);
  Result again = search_fast_checked (&query, &key, &params, 2);
  Result exact = search_exact_checked (&query, &key);
  double mean_fast = 0.0, mean_exact = 0.0;
  int same = 0;

  assert_results_equal (&one, &two);
  assert_results_equal (&two, &again);
  assert_honest (&query, &key, &two, &exact);
  for (int p = 0; p < two.n; p++)
    {
      mean_fast += two.S[p] / two.n;
      mean_exact += exact.S[p] / two.n;
      same += two.idx[p] == exact.idx[p];
    }
  g_test_message ("%s: mean S %.5f (exact %.5f), %.1f%% of idx the same",
                  smooth ? "smooth" : "white", mean_fast, mean_exact,
                  100.0 * same / two.n);
  g_assert_cmpfloat (mean_fast, >=, (smooth ? 0.98 : 0.7) * mean_exact);

  result_clear (&one);
  result_clear (&two);
  result_clear (&again);
  result_clear (&exact);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------ */
/* Degenerate sizes                                                    */

typedef struct
{
  int h, w, key_h, key_w;
} Size;

static const Size odd_sizes[] = {
  { 1, 1, 1, 1 }, { 1, 9, 4, 1 }, { 7, 1, 1, 13 }, { 2, 3, 2, 2 },
  { 1, 40, 1, 200 }, { 9, 11, 3, 5 }, { 5, 5, 1, 1 },
};

/* Where the defaults choose pool factor 1 the result is the exact
 * search's, bit for bit; forced to pool (factors 2 and 3, which leave
 * partial and single blocks), it stays honest and thread-independent. */
static void
test_odd_sizes (void)
{
  GRand *rand = g_rand_new_with_seed (5);

  for (guint i = 0; i < G_N_ELEMENTS (odd_sizes); i++)
    {
      const Size *s = &odd_sizes[i];
      RefsrTensor query, key;

      random_features (&query, 8, s->h, s->w, rand);
      random_features (&key, 8, s->key_h, s->key_w, rand);

      Result exact = search_exact_checked (&query, &key);
      Result fast = search_fast_checked (&query, &key, NULL, 2);
      int f = refsr_search_fast_pool_factor (s->h, s->w, s->key_h, s->key_w);

      if (f == 1)
        assert_results_equal (&fast, &exact);
      assert_honest (&query, &key, &fast, &exact);
      for (int forced = 2; forced <= 3; forced++)
        {
          RefsrSearchFastParams params = { .pool_factor = forced };
          Result one = search_fast_checked (&query, &key, &params, 1);
          Result two = search_fast_checked (&query, &key, &params, 2);

          assert_results_equal (&one, &two);
          assert_honest (&query, &key, &two, &exact);
          result_clear (&one);
          result_clear (&two);
        }
      result_clear (&exact);
      result_clear (&fast);
      refsr_tensor_clear (&query);
      refsr_tensor_clear (&key);
    }
  g_rand_free (rand);
}

/* An all-zero query patch ties at R = 0 with every key: q = 0, S = 0, as
 * in the exact search. */
static void
test_zero_query (void)
{
  GRand *rand = g_rand_new_with_seed (9);
  RefsrTensor query, key;
  RefsrSearchFastParams params = { .pool_factor = 2 };

  random_features (&query, 8, 10, 12, rand);
  random_features (&key, 8, 14, 15, rand);
  for (int c = 0; c < 8; c++)
    for (int y = 0; y < 4; y++)
      memset (query.data + ((gsize) c * 10 + y) * 12, 0, 5 * sizeof (float));

  Result fast = search_fast_checked (&query, &key, &params, 2);

  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 4; x++)
      {
        g_assert_cmpint (fast.idx[y * 12 + x], ==, 0);
        g_assert_cmpfloat (fast.S[y * 12 + x], ==, 0.0f);
      }
  result_clear (&fast);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------ */
/* Promises of the interface                                           */

typedef struct
{
  atomic_int cancel;
  double macs;
  double cancel_after;  /* set cancel once this many MACs are reported */
  int ticks;
} CancelWatch;

static void
cancel_on_tick (double macs, void *data)
{
  CancelWatch *watch = data;

  watch->ticks++;
  watch->macs += macs;
  if (watch->macs >= watch->cancel_after)
    atomic_store (&watch->cancel, 1);
}

/* Cancelled before it starts, inside the coarse pass and inside the
 * refinement: FALSE and REFSR_ERROR_CANCELLED each time (and, under
 * ASan, nothing leaked). */
static void
test_cancel (void)
{
  GRand *rand = g_rand_new_with_seed (3);
  RefsrTensor query, key;
  int h = 20, w = 24, key_h = 40, key_w = 48;
  RefsrSearchFastParams params = { .pool_factor = 2 };
  /* the coarse pass's work: pooled 10×12 against 20×24 */
  double coarse = (256.0 + 9.0) * 10 * 12 * 20 * 24;
  double points[] = { 0.0, 0.5 * coarse, 1.5 * coarse };

  random_features (&query, 256, h, w, rand);
  random_features (&key, 256, key_h, key_w, rand);
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    {
      CancelWatch watch = { 0 };
      RefsrExec exec = { .n_threads = 2, .cancel = &watch.cancel,
                         .tick = cancel_on_tick, .tick_data = &watch };
      GError *error = NULL;
      Result r = result_new (&query);

      watch.cancel_after = points[i];
      atomic_store (&watch.cancel, points[i] == 0.0);
      g_assert_false (refsr_search_fast_full (&query, &key, &params, r.idx,
                                              r.S, &exec, &error));
      g_assert_error (error, REFSR_ERROR, REFSR_ERROR_CANCELLED);
      g_test_message ("cancelled after %.3g MACs in %d ticks", watch.macs,
                      watch.ticks);
      g_assert_cmpfloat (watch.macs, >=, points[i]);
      g_clear_error (&error);
      result_clear (&r);
    }
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  g_rand_free (rand);
}

/* Progress adds up to about what refsr_search_fast_macs promises (sizes
 * for which the defaults pool). */
static void
test_progress (void)
{
  GRand *rand = g_rand_new_with_seed (4);
  RefsrTensor query, key;
  CancelWatch watch = { .cancel_after = INFINITY };
  RefsrExec exec = { .n_threads = 2, .tick = cancel_on_tick,
                     .tick_data = &watch };
  GError *error = NULL;

  random_features (&query, 256, 16, 18, rand);
  random_features (&key, 256, 80, 80, rand);
  Result r = result_new (&query);
  double expected = refsr_search_fast_macs (16, 18, 80, 80);

  g_assert_cmpint (refsr_search_fast_pool_factor (16, 18, 80, 80), >, 1);

  g_assert_true (refsr_search_fast (&query, &key, r.idx, r.S, &exec,
                                    &error));
  g_assert_no_error (error);
  g_test_message ("reported %.4g MACs, estimate %.4g", watch.macs, expected);
  g_assert_cmpfloat (watch.macs, >=, 0.7 * expected);
  g_assert_cmpfloat (watch.macs, <=, 1.3 * expected);
  result_clear (&r);
  refsr_tensor_clear (&query);
  refsr_tensor_clear (&key);
  g_rand_free (rand);
}

/* Memory grows with P + Q: 4× the positions on each side, about 4× the
 * bytes, and far below a P×Q matrix. */
static void
test_scratch (void)
{
  gsize small = refsr_search_fast_scratch_bytes (256, 120, 120, 120, 120, 2);
  gsize big = refsr_search_fast_scratch_bytes (256, 240, 240, 240, 240, 2);

  g_test_message ("scratch for P = Q = 14400: %.1f MB, 57600: %.1f MB",
                  small / 1e6, big / 1e6);
  g_assert_cmpuint (small, <, 64 * 1000 * 1000);
  g_assert_cmpuint (big, <, 5 * small);
  g_assert_cmpint (refsr_search_fast_pool_factor (120, 120, 120, 120), >, 1);
}

static void
test_invalid (void)
{
  float data[16] = { 0 };
  RefsrTensor query = { 2, 2, 2, data, 0 }, key = { 1, 2, 2, data, 0 };
  RefsrExec exec = { .n_threads = 1 };
  GError *error = NULL;
  gint64 idx[4];
  float S[4];

  g_assert_false (refsr_search_fast (&query, &key, idx, S, &exec, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (planted_cases); i++)
    {
      const Planted *pc = &planted_cases[i];
      char *name = g_strdup_printf ("/search-fast/planted/%s-%dx%dx%d-in-"
                                    "%dx%d-pool%d",
                                    pc->smooth ? "smooth" : "white", pc->c,
                                    pc->h, pc->w, pc->key_h, pc->key_w,
                                    pc->pool_factor);
      g_test_add_data_func (name, pc, test_planted);
      g_free (name);
    }
  g_test_add_data_func ("/search-fast/unstructured/white",
                        GINT_TO_POINTER (FALSE), test_unstructured);
  g_test_add_data_func ("/search-fast/unstructured/smooth",
                        GINT_TO_POINTER (TRUE), test_unstructured);
  g_test_add_func ("/search-fast/odd-sizes", test_odd_sizes);
  g_test_add_func ("/search-fast/zero-query", test_zero_query);
  g_test_add_func ("/search-fast/cancel", test_cancel);
  g_test_add_func ("/search-fast/progress", test_progress);
  g_test_add_func ("/search-fast/scratch-size", test_scratch);
  g_test_add_func ("/search-fast/invalid", test_invalid);
  return g_test_run ();
}
