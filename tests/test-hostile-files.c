/* test-hostile-files.c — malformed, truncated and malicious weights files
 * give a REFSR_ERROR_WEIGHTS error naming the problem, never a crash.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The files are made in memory from the good fixtures (mutated copies) or
 * written with tests/torch-writer.h; each is handed to the loader in a
 * buffer of exactly its size, so an over-read is caught by ASan builds. */
#include <glib/gstdio.h>
#include <string.h>

#include "fixture.h"
#include "model.h"
#include "weights-file.h"
#include "torch-writer.h"

#define REDUCED "weights-1+1+1+1-seed1"

static GBytes *
read_fixture (const char *file)
{
  char *path = fixture_path (file), *data;
  gsize size;

  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  g_free (path);
  return g_bytes_new_take (data, size);
}

/* Loads a copy of data[0..size) and expects a weights error whose message
 * contains `problem` (unless NULL). */
static void
expect_error (const guint8 *data, gsize size, const char *problem)
{
  guint8 *copy = g_memdup2 (data, size);
  GError *error = NULL;
  RefsrModel *m = refsr_model_load_from_data (copy, size, "hostile", &error);

  g_assert_null (m);
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "hostile"));
  if (problem != NULL && strstr (error->message, problem) == NULL)
    g_error ("expected \"%s\" in: %s", problem, error->message);
  g_error_free (error);
  g_free (copy);
}

static void
expect_error_bytes (GByteArray *b, const char *problem)
{
  expect_error (b->data, b->len, problem);
  g_byte_array_unref (b);
}

static void
test_truncated (gconstpointer file)
{
  GBytes *bytes = read_fixture (file);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  for (int k = 0; k < 64; k++)
    expect_error (data, size * k / 64, k == 0 ? "empty" : NULL);
  expect_error (data, size - 1, NULL);
  g_bytes_unref (bytes);
}

/* ---- safetensors -------------------------------------------------- */

/* The reduced fixture with its JSON header edited: `from` replaced by
 * `to` once; the data block is kept. */
static GByteArray *
edit_header (const char *from, const char *to)
{
  GBytes *bytes = read_fixture (REDUCED ".safetensors");
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint64 len = 0;
  char *header, *at;
  GString *edited;
  GByteArray *out = g_byte_array_new ();

  for (int i = 7; i >= 0; i--)
    len = (len << 8) | data[i];
  header = g_strndup ((const char *) data + 8, len);
  at = strstr (header, from);
  g_assert_nonnull (at);
  edited = g_string_new_len (header, at - header);
  g_string_append (edited, to);
  g_string_append (edited, at + strlen (from));
  pk_le (out, edited->len, 8);
  g_byte_array_append (out, (const guint8 *) edited->str, edited->len);
  g_byte_array_append (out, data + 8 + len, size - 8 - len);
  g_string_free (edited, TRUE);
  g_free (header);
  g_bytes_unref (bytes);
  return out;
}

static void
test_safetensors_header (void)
{
  GBytes *bytes = read_fixture (REDUCED ".safetensors");
  gsize size;
  const guint8 *original = g_bytes_get_data (bytes, &size);
  guint8 *data = g_memdup2 (original, size);
  static const guint64 lengths[] = { G_MAXUINT64, G_MAXINT64, 1u << 31, 0 };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      for (int b = 0; b < 8; b++)
        data[b] = (guint8) (lengths[i] >> (8 * b));
      expect_error (data, size, NULL);
    }
  g_free (data);
  g_bytes_unref (bytes);
}

static void
test_safetensors_entries (void)
{
  expect_error_bytes (edit_header ("[0,6912]", "[0,99999999]"), NULL);
  expect_error_bytes (edit_header ("[0,6912]", "[0,6916]"), NULL);
  expect_error_bytes (edit_header ("[0,6912]", "[4,6916]"), "gap");
  expect_error_bytes (edit_header ("[6912,7168]", "[6900,7156]"), NULL);
  expect_error_bytes (edit_header ("\"F32\"", "\"I32\""), NULL);
  expect_error_bytes (edit_header ("[64,3,3,3]", "[64,3,3,4]"), NULL);
  expect_error_bytes (edit_header ("{", "["), NULL);
}

/* Architecture checks, through a file so the message names it. */
static void
expect_model_error (RefsrStateDict *sd, const char *problem)
{
  char *dir = g_dir_make_tmp ("refsr-hostile-XXXXXX", NULL);
  char *path = g_build_filename (dir, "w.safetensors", NULL);
  GError *error = NULL;

  g_assert_true (refsr_state_dict_write_safetensors (sd, path, &error));
  g_assert_null (refsr_model_load (path, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, path));
  if (strstr (error->message, problem) == NULL)
    g_error ("expected \"%s\" in: %s", problem, error->message);
  g_error_free (error);
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  refsr_state_dict_free (sd);
}

static RefsrStateDict *
reduced_without (const char *skip, const char *reshape)
{
  char *path = fixture_path (REDUCED ".safetensors");
  RefsrStateDict *sd = refsr_weights_load (path, NULL);
  RefsrStateDict *out = refsr_state_dict_new ();

  for (guint i = 0; i < sd->tensors->len; i++)
    {
      RefsrStateTensor *t = g_ptr_array_index (sd->tensors, i);
      gint64 shape[REFSR_MAX_DIMS];
      if (g_strcmp0 (t->name, skip) == 0)
        continue;
      memcpy (shape, t->shape, sizeof shape);
      if (g_strcmp0 (t->name, reshape) == 0) /* same numel, other shape */
        shape[1] = t->shape[1] * t->shape[2], shape[2] = 1;
      g_assert_true (refsr_state_dict_add (out, t->name, t->ndim, shape,
                                           t->data, NULL));
      t->data = NULL;
    }
  refsr_state_dict_free (sd);
  g_free (path);
  return out;
}

static void
test_architecture (void)
{
  RefsrStateDict *sd;
  float *extra = g_new0 (float, 3);
  gint64 shape[1] = { 3 };

  expect_model_error (reduced_without ("MainNet.RB21.0.conv1.weight", NULL),
                      "missing tensor MainNet.RB21.0.conv1.weight");
  expect_model_error (reduced_without ("LTE.sub_mean.bias", NULL),
                      "missing tensor LTE.sub_mean.bias");
  expect_model_error (reduced_without (NULL, "MainNet.RB11.0.conv1.weight"),
                      "tensor MainNet.RB11.0.conv1.weight has shape "
                      "[64,192,1,3], expected [64,64,3,3]");
  expect_model_error (reduced_without ("MainNet.SFE.conv_head.weight", NULL),
                      "missing tensor MainNet.SFE.conv_head.weight");
  sd = reduced_without (NULL, NULL);
  g_assert_true (refsr_state_dict_add (sd, "MainNet.SearchNet.bias", 1, shape,
                                       extra, NULL));
  expect_model_error (sd, "unexpected tensor MainNet.SearchNet.bias");
  /* the training-only LTE copy of a raw state_dict is ignored, as the
   * official loader ignores it */
  sd = reduced_without (NULL, NULL);
  extra = g_new0 (float, 3);
  g_assert_true (refsr_state_dict_add (sd, "LTE_copy.sub_mean.bias", 1, shape,
                                       extra, NULL));
  {
    GError *error = NULL;
    RefsrModel *model = refsr_model_from_state_dict (sd, &error);
    g_assert_no_error (error);
    refsr_model_free (model);
  }
  /* A lone RB11.1 block makes n_res_blocks[1] = 2, so RB11.1.conv1 is
   * reported missing rather than accepted. */
  sd = reduced_without (NULL, NULL);
  extra = g_new0 (float, 64);
  shape[0] = 64;
  g_assert_true (refsr_state_dict_add (sd, "MainNet.RB11.1.conv2.bias", 1,
                                       shape, extra, NULL));
  expect_model_error (sd, "missing tensor MainNet.RB11.1.conv1.weight");
}

/* ---- pickles ------------------------------------------------------ */

/* The legacy fixture's first three pickles (magic, version, sys info),
 * then `object` as the checkpoint pickle. */
static void
expect_pickle_error (const char *object, gsize len, const char *problem)
{
  GBytes *bytes = read_fixture (REDUCED ".legacy.pt");
  const guint8 *data = g_bytes_get_data (bytes, NULL);
  GByteArray *b = g_byte_array_new ();

  g_assert_cmpint (data[136], ==, '.'); /* end of the sys-info pickle */
  g_byte_array_append (b, data, 137);
  g_byte_array_append (b, (const guint8 *) object, len);
  expect_error_bytes (b, problem);
  g_bytes_unref (bytes);
}

#define PICKLE(s, problem) expect_pickle_error (s, sizeof s - 1, problem)

static void
test_pickle_opcodes (void)
{
  PICKLE ("\x80\x02}i", "opcode 0x69 at byte 140");
  PICKLE ("\x80\x02}\x00", "opcode 0x00");
  PICKLE ("\x80\x02}h\x05.", "memo index 5 was never stored");
  PICKLE ("\x80\x02}r\xff\xff\xff\xff.", "out of range");
  PICKLE ("\x80\x02}j\x00\x00\x00\x80.", "never stored");
  PICKLE ("\x80\x02\x85.", "stack underflow");
  PICKLE ("\x80\x02(}R.", "stack underflow");
  PICKLE ("\x80\x02}(Xu.", "BINUNICODE");
  PICKLE ("\x80\x02u.", "no MARK");
  PICKLE ("\x80\x02]\x8a\xff\x01\x02\x03", "LONG1");
  PICKLE ("\x80\x02}\x8a\xff", "truncated");
  PICKLE ("\x80\x02}", "without STOP");
  PICKLE ("\x80\x02.", "stack underflow");
  PICKLE ("\x80\x07}.", "protocol");
  PICKLE ("\x80\x02](K\x01K\x02u.", "not a dict");
  PICKLE ("\x80\x02K\x01.", "not a dict");
  PICKLE ("\x80\x02}X\x01\x00\x00\x00" "aK\x01s.", "not a tensor");
  PICKLE ("\x80\x02" "ccollections\nOrderedDict\n(K\x01" "tR.", "OrderedDict");
  PICKLE ("\x80\x02" "ctorch\nFloatStorage\n)R.", "refusing to call");
}

/* GLOBAL of os.system (or any other callable) is refused at the GLOBAL
 * itself, so REDUCE never sees it: nothing runs. */
static void
test_pickle_globals (void)
{
  static const char *head = "\x80\x02" "cos\nsystem\n";
  char *marker = g_build_filename (g_get_tmp_dir (), "refsr-pwned", NULL);
  char *command = g_strconcat ("touch ", marker, NULL);
  GByteArray *evil = g_byte_array_new ();

  g_remove (marker);
  g_byte_array_append (evil, (const guint8 *) head, strlen (head));
  pk_string (evil, command);
  g_byte_array_append (evil, (const guint8 *) "\x85R.", 3);
  expect_pickle_error ((const char *) evil->data, evil->len,
                       "refusing global 'os.system'");
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  PICKLE ("\x80\x02" "cbuiltins\neval\n.", "refusing global 'builtins.eval'");
  PICKLE ("\x80\x02" "ctorch._utils\n_rebuild_parameter\n.", "refusing");
  PICKLE ("\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x93.",
          "refusing global 'os.system'");
  PICKLE ("\x80\x02" "cos", "not terminated");
  g_byte_array_unref (evil);
  g_free (command);
  g_free (marker);
}

/* `head`, then `body` repeated n times, then `tail`. */
static GByteArray *
repeated (const char *head, const char *body, gsize n, const char *tail)
{
  GByteArray *b = g_byte_array_new ();

  g_byte_array_append (b, (const guint8 *) head, strlen (head));
  for (gsize i = 0; i < n; i++)
    g_byte_array_append (b, (const guint8 *) body, strlen (body));
  g_byte_array_append (b, (const guint8 *) tail, strlen (tail));
  return b;
}

/* A few MB of pickle that would make hundreds of MB of values (a list
 * of 2.5 million Nones, 2 bytes each) stops at the unpickler's budget
 * with an error, instead of growing until the allocator aborts. */
static void
test_pickle_budget (void)
{
  GByteArray *list = repeated ("\x80\x02]", "Na", 2500000, ".");

  expect_pickle_error ((const char *) list->data, list->len, "MiB");
  g_byte_array_unref (list);
  /* one PUT may not reserve a memo far beyond the values made */
  PICKLE ("\x80\x02}r\x02\x00\x00\x00.", "memo index 2 is out of range");
}

/* The legacy header pickles are tiny; a long one is rejected after a few
 * KB, not unpickled to the end before its type is checked. */
static void
test_legacy_header_size (void)
{
  GByteArray *b = repeated ("\x80\x02]", "Na", 3000, ".");

  expect_error_bytes (b, "does not end within 4096 bytes");
}

/* ---- zip container ------------------------------------------------ */

static guint8 *
zip_copy (gsize *size, gsize *eocd, gsize *first_cd)
{
  GBytes *bytes = read_fixture (REDUCED ".zip.pt");
  const guint8 *original = g_bytes_get_data (bytes, size);
  guint8 *data = g_memdup2 (original, *size);

  g_bytes_unref (bytes);
  *eocd = *size - 22;
  g_assert_cmpmem (data + *eocd, 4, "PK\5\6", 4);
  *first_cd = data[*eocd + 16] | data[*eocd + 17] << 8
              | data[*eocd + 18] << 16 | (gsize) data[*eocd + 19] << 24;
  g_assert_cmpmem (data + *first_cd, 4, "PK\1\2", 4);
  return data;
}

static void
test_zip (void)
{
  gsize size, eocd, cd;
  guint8 *data = zip_copy (&size, &eocd, &cd);

  data[cd + 10] = 8; /* data.pkl (the first entry): deflated */
  expect_error (data, size, "compressed");
  data[cd + 10] = 0;
  memcpy (data + cd + 42, "\xf0\xff\xff\x7f", 4); /* local header offset */
  expect_error (data, size, "outside");
  g_free (data);

  data = zip_copy (&size, &eocd, &cd);
  memcpy (data + eocd + 16, "\xf0\xff\xff\xf0", 4); /* directory offset */
  expect_error (data, size, "outside the file");
  memcpy (data + eocd + 16, &cd, 4);
  memcpy (data + eocd + 12, "\xff\xff\xff\x0f", 4); /* directory size */
  expect_error (data, size, "outside the file");
  g_free (data);

  data = zip_copy (&size, &eocd, &cd);
  memcpy (data + cd + 24, "\x00\x00\x00\x40", 4); /* uncompressed size */
  expect_error (data, size, NULL);
  memcpy (data + cd + 20, "\x00\x00\x00\x40", 4); /* both sizes: 1 GiB */
  expect_error (data, size, "past the end");
  g_free (data);

  data = zip_copy (&size, &eocd, &cd);
  data[cd + 46 + 30] = 'x'; /* ".../data.pkl" renamed */
  expect_error (data, size, "data.pkl");
  g_free (data);
}

/* ---- tensor views --------------------------------------------------- */

static void
expect_view_error (gint64 storage_numel, gint64 offset, int ndim,
                   const gint64 *size, const gint64 *stride,
                   const char *problem)
{
  static float storage[16];
  TorchEntry e = { "MainNet.SFE.conv_head.weight", "0", storage, 16, offset,
                   ndim, { 0 }, { 0 } };
  TorchStyle style = { "torch", "cpu" };

  memcpy (e.size, size, ndim * sizeof *size);
  memcpy (e.stride, stride, ndim * sizeof *stride);
  e.storage_numel = MIN (storage_numel, 16);
  expect_error_bytes (torch_write_legacy (&e, 1, &style), problem);
  expect_error_bytes (torch_write_zip (&e, 1, &style), problem);
}

static void
test_views (void)
{
  const gint64 s2[2] = { 2, 2 }, neg[2] = { -1, 1 }, big[2] = { 1LL << 62,
                                                                1LL << 62 };
  const gint64 huge[2] = { 1LL << 40, 1LL << 40 }, one[2] = { 1, 1 };
  const gint64 s33[2] = { 3, 3 }, c33[2] = { 3, 1 }, s1[1] = { 1 };
  const gint64 wide[2] = { 8, 8 };

  expect_view_error (16, 0, 2, s2, neg, "negative");
  expect_view_error (16, 0, 2, neg, one, "negative");
  expect_view_error (16, 0, 2, s2, big, "overflow");
  expect_view_error (16, 0, 2, huge, one, "overflows");
  expect_view_error (4, 0, 2, s33, c33, "more than its storage");
  expect_view_error (16, 16, 1, s1, s1, "reaches element 16");
  expect_view_error (16, -3, 1, s1, s1, "negative storage offset");
  expect_view_error (16, 0, 2, s2, wide, "reaches element 16");
}

static void
test_storage_type (void)
{
  static float storage[4];
  TorchEntry e = { "x", "0", storage, 4, 0, 1, { 4 }, { 1 } };
  TorchStyle style = { "torch", "cpu" };
  GByteArray *b = torch_write_legacy (&e, 1, &style);
  guint8 *at = memmem (b->data, b->len, "FloatStorage", 12);

  memcpy (at, "ShortStorage", 12);
  expect_error_bytes (b, "torch.ShortStorage");
}

/* ---- files ---------------------------------------------------------- */

static void
test_paths (void)
{
  char *dir = g_dir_make_tmp ("refsr-hostile-XXXXXX", NULL);
  char *empty = g_build_filename (dir, "empty.pt", NULL);
  char *missing = g_build_filename (dir, "missing.pt", NULL);
  GError *error = NULL;

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_null (refsr_model_load (empty, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, empty));
  g_clear_error (&error);
  g_assert_null (refsr_model_load (dir, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "folder"));
  g_clear_error (&error);
  g_assert_null (refsr_model_load (missing, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);
  g_remove (empty);
  g_rmdir (dir);
  g_free (missing);
  g_free (empty);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/hostile/truncated/safetensors",
                        REDUCED ".safetensors", test_truncated);
  g_test_add_data_func ("/hostile/truncated/legacy", REDUCED ".legacy.pt",
                        test_truncated);
  g_test_add_data_func ("/hostile/truncated/zip", REDUCED ".zip.pt",
                        test_truncated);
  g_test_add_func ("/hostile/safetensors/header", test_safetensors_header);
  g_test_add_func ("/hostile/safetensors/entries", test_safetensors_entries);
  g_test_add_func ("/hostile/architecture", test_architecture);
  g_test_add_func ("/hostile/pickle/opcodes", test_pickle_opcodes);
  g_test_add_func ("/hostile/pickle/globals", test_pickle_globals);
  g_test_add_func ("/hostile/pickle/budget", test_pickle_budget);
  g_test_add_func ("/hostile/pickle/legacy-header-size",
                   test_legacy_header_size);
  g_test_add_func ("/hostile/zip", test_zip);
  g_test_add_func ("/hostile/views", test_views);
  g_test_add_func ("/hostile/storage-type", test_storage_type);
  g_test_add_func ("/hostile/paths", test_paths);
  return g_test_run ();
}
