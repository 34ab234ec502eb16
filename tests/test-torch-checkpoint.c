/* test-torch-checkpoint.c — PyTorch checkpoints load to exactly the tensors
 * of the safetensors fixture; weights bind to the architecture; the
 * expected key list equals the specification's.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "fixture.h"
#include "model.h"
#include "torch-checkpoint.h"
#include "weights-file.h"
#include "torch-writer.h"

#define REDUCED "weights-1+1+1+1-seed1"
#define DEFAULT "weights-16+16+8+4-seed2.safetensors"

static RefsrStateDict *
load_fixture_sd (const char *file)
{
  char *path = fixture_path (file);
  GError *error = NULL;
  RefsrStateDict *sd = refsr_weights_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (sd);
  g_free (path);
  return sd;
}

static void
assert_same_state_dict (const RefsrStateDict *a, const RefsrStateDict *b)
{
  g_assert_cmpuint (a->tensors->len, ==, b->tensors->len);
  for (guint i = 0; i < a->tensors->len; i++)
    {
      const RefsrStateTensor *ta = g_ptr_array_index (a->tensors, i);
      const RefsrStateTensor *tb = g_ptr_array_index (b->tensors, i);
      g_assert_cmpstr (ta->name, ==, tb->name);
      g_assert_cmpint (ta->ndim, ==, tb->ndim);
      g_assert_cmpmem (ta->shape, ta->ndim * sizeof (gint64), tb->shape,
                       tb->ndim * sizeof (gint64));
      g_assert_cmpint (ta->numel, ==, tb->numel);
      g_assert_cmpmem (ta->data, ta->numel * sizeof (float), tb->data,
                       tb->numel * sizeof (float));
    }
}

static void
test_checkpoint_equals_safetensors (gconstpointer data)
{
  const char *suffix = data;
  char *file = g_strconcat (REDUCED, suffix, NULL);
  RefsrStateDict *expected = load_fixture_sd (REDUCED ".safetensors");
  RefsrStateDict *sd = load_fixture_sd (file);

  g_assert_cmpuint (expected->tensors->len, ==, 104);
  assert_same_state_dict (sd, expected);
  refsr_state_dict_free (sd);
  refsr_state_dict_free (expected);
  g_free (file);
}

static void
assert_config (RefsrModel *model, int n_feats, const int blocks[4])
{
  RefsrConfig config;

  refsr_model_get_config (model, &config);
  g_assert_cmpint (config.n_feats, ==, n_feats);
  g_assert_cmpmem (config.n_res_blocks, sizeof config.n_res_blocks, blocks,
                   4 * sizeof (int));
}

static void
test_bind (void)
{
  static const int reduced[4] = { 1, 1, 1, 1 }, full[4] = { 16, 16, 8, 4 };
  RefsrModel *m = fixture_model (REDUCED ".legacy-cuda.pt");
  const RefsrStateTensor *t;

  assert_config (m, 64, reduced);
  t = refsr_state_dict_get (m->weights, "MainNet.RB11.0.conv2.weight");
  g_assert_true (m->main.rb11[0].conv2.weight == t->data);
  g_assert_cmpint (m->main.merge_tail.conv_tail2.cout, ==, 3);
  g_assert_cmpint (m->main.merge_tail.conv_tail2.cin, ==, 32);
  g_assert_cmpint (m->lte.slice3_10.cin, ==, 128);
  refsr_model_free (m);

  m = fixture_model (DEFAULT);
  assert_config (m, 64, full);
  t = refsr_state_dict_get (m->weights, "MainNet.RB33.3.conv1.bias");
  g_assert_true (m->main.rb33[3].conv1.bias == t->data);
  t = refsr_state_dict_get (m->weights, "LTE.sub_mean.weight");
  g_assert_true (m->lte.sub_mean.weight == t->data);
  g_assert_cmpint (m->lte.sub_mean.k, ==, 1);
  refsr_model_free (m);
}

/* Every conv the model holds is bound (no NULL weight/bias left). */
static void
test_every_conv_bound (void)
{
  RefsrModel *m = fixture_model (DEFAULT);
  GHashTable *bound = g_hash_table_new (NULL, NULL);
  GPtrArray *keys = refsr_model_expected_keys (&m->config);

  for (guint i = 0; i < m->weights->tensors->len; i++)
    {
      const RefsrStateTensor *t = g_ptr_array_index (m->weights->tensors, i);
      g_hash_table_add (bound, t->data);
    }
  g_assert_cmpuint (keys->len, ==, 316);
  g_assert_cmpuint (g_hash_table_size (bound), ==, 316);
  for (int i = 0; i < 4; i++)
    {
      const RefsrResBlock *rb = &m->main.rb31[i];
      g_assert_true (g_hash_table_contains (bound, rb->conv1.weight));
      g_assert_true (g_hash_table_contains (bound, rb->conv2.bias));
    }
  g_assert_true (g_hash_table_contains (bound, m->main.ex123.conv31_2.weight));
  g_assert_true (g_hash_table_contains (bound, m->main.sfe.rbs[15].conv2.bias));
  g_ptr_array_unref (keys);
  g_hash_table_unref (bound);
  refsr_model_free (m);
}

/* Parses "| `key` | [a, b, c] | n |" lines of the spec's key lists. */
static GPtrArray *
spec_keys (const char *file, GPtrArray **shapes)
{
  char *fixtures = fixture_path ("");
  char *path = g_build_filename (fixtures, "..", "..", "spec", file, NULL);
  char *text = NULL, **lines;
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);

  *shapes = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      char **cells;
      if (!g_str_has_prefix (*l, "| `"))
        continue;
      cells = g_strsplit (*l, "|", -1);
      g_ptr_array_add (keys, g_strndup (strchr (cells[1], '`') + 1,
                                        strrchr (cells[1], '`')
                                        - strchr (cells[1], '`') - 1));
      g_ptr_array_add (*shapes, g_strstrip (g_strdup (cells[2])));
      g_strfreev (cells);
    }
  g_strfreev (lines);
  g_free (text);
  g_free (path);
  g_free (fixtures);
  return keys;
}

static void
test_expected_keys (gconstpointer data)
{
  const RefsrConfig *config = data;
  GPtrArray *shapes, *keys, *expected;

  keys = spec_keys (config->n_res_blocks[0] == 1 ? "TTSR-keys-reduced.md"
                                                 : "TTSR-keys-default.md",
                    &shapes);
  expected = refsr_model_expected_keys (config);
  g_assert_cmpuint (keys->len, ==, expected->len);
  for (guint i = 0; i < keys->len; i++)
    {
      const RefsrExpectedKey *k = g_ptr_array_index (expected, i);
      GString *shape = g_string_new ("[");
      for (int d = 0; d < k->ndim; d++)
        g_string_append_printf (shape, "%s%" G_GINT64_FORMAT,
                                d ? ", " : "", k->shape[d]);
      g_string_append_c (shape, ']');
      g_assert_cmpstr (k->name, ==, g_ptr_array_index (keys, i));
      g_assert_cmpstr (shape->str, ==, g_ptr_array_index (shapes, i));
      g_string_free (shape, TRUE);
    }
  g_ptr_array_unref (expected);
  g_ptr_array_unref (keys);
  g_ptr_array_unref (shapes);
}

/* DataParallel files carry "module." on every key. */
static void
test_module_prefix (void)
{
  static const int reduced[4] = { 1, 1, 1, 1 };
  RefsrStateDict *sd = load_fixture_sd (REDUCED ".safetensors");
  RefsrStateDict *prefixed = refsr_state_dict_new ();
  GError *error = NULL;
  RefsrModel *m;

  for (guint i = 0; i < sd->tensors->len; i++)
    {
      RefsrStateTensor *t = g_ptr_array_index (sd->tensors, i);
      char *name = g_strconcat ("module.", t->name, NULL);
      g_assert_true (refsr_state_dict_add (prefixed, name, t->ndim, t->shape,
                                           t->data, &error));
      t->data = NULL;
      g_free (name);
    }
  refsr_state_dict_free (sd);
  m = refsr_model_from_state_dict (prefixed, &error);
  g_assert_no_error (error);
  assert_config (m, 64, reduced);
  g_assert_nonnull (refsr_state_dict_get (m->weights, "LTE.sub_mean.bias"));
  refsr_model_free (m);
}

/* A transposed view with an offset, and a storage shared by two tensors,
 * in both container formats: the values come out as as_strided gives. */
static void
test_strided_views (void)
{
  float storage[20];
  TorchEntry entries[2] = {
    { "t", "0", storage, 20, 2, 2, { 3, 4 }, { 1, 3 } },
    { "row", "0", storage, 20, 17, 1, { 3 }, { 1 } },
  };
  TorchStyle style = { "torch.cuda", "cuda:1" };

  for (int i = 0; i < 20; i++)
    storage[i] = (float) i + 0.5f;
  for (int format = 0; format < 2; format++)
    {
      GByteArray *file = format ? torch_write_zip (entries, 2, &style)
                                : torch_write_legacy (entries, 2, &style);
      GError *error = NULL;
      RefsrStateDict *sd = refsr_weights_read (file->data, file->len,
                                                  "strided", &error);
      const RefsrStateTensor *t;

      g_assert_no_error (error);
      t = refsr_state_dict_get (sd, "t");
      g_assert_cmpint (t->numel, ==, 12);
      for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
          g_assert_cmpfloat (t->data[y * 4 + x], ==, storage[2 + y + 3 * x]);
      t = refsr_state_dict_get (sd, "row");
      g_assert_cmpfloat (t->data[2], ==, storage[19]);
      refsr_state_dict_free (sd);
      g_byte_array_unref (file);
    }
}

/* How long the default-config weights take to load (printed, not judged). */
static void
test_load_time (void)
{
  char *path = fixture_path (DEFAULT);
  gint64 start = g_get_monotonic_time ();
  GError *error = NULL;
  RefsrModel *m = refsr_model_load (path, &error);

  g_assert_no_error (error);
  g_test_message ("loading %s took %.1f ms", DEFAULT,
                  (g_get_monotonic_time () - start) / 1000.0);
  refsr_model_free (m);
  g_free (path);
}

int
main (int argc, char **argv)
{
  static const RefsrConfig reduced = { 64, { 1, 1, 1, 1 } };
  static const RefsrConfig full = { 64, { 16, 16, 8, 4 } };

  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/torch/legacy", ".legacy.pt",
                        test_checkpoint_equals_safetensors);
  g_test_add_data_func ("/torch/legacy-cuda", ".legacy-cuda.pt",
                        test_checkpoint_equals_safetensors);
  g_test_add_data_func ("/torch/zip", ".zip.pt",
                        test_checkpoint_equals_safetensors);
  g_test_add_func ("/torch/strided-views", test_strided_views);
  g_test_add_func ("/model/bind", test_bind);
  g_test_add_func ("/model/every-conv-bound", test_every_conv_bound);
  g_test_add_func ("/model/module-prefix", test_module_prefix);
  g_test_add_data_func ("/model/expected-keys/reduced", &reduced,
                        test_expected_keys);
  g_test_add_data_func ("/model/expected-keys/default", &full,
                        test_expected_keys);
  g_test_add_func ("/model/load-time", test_load_time);
  return g_test_run ();
}
