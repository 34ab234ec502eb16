/* test-safetensors.c — the safetensors reader and writer.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "weights-file.h"

/* A case file holds F32, I64 and U8 entries with metadata. */
static void
test_index_fixture (void)
{
  Fixture *f = fixture_open ("case-a.safetensors");
  const RefsrSafetensorsItem *idx = fixture_item (f, "idx", "I64");
  const RefsrSafetensorsItem *lr = fixture_item (f, "lr_u8", "U8");
  const RefsrSafetensorsItem *sr = fixture_item (f, "sr", "F32");

  g_assert_cmpint (idx->ndim, ==, 1);
  g_assert_cmpint (idx->shape[0], ==, 24 * 32);
  g_assert_cmpint (lr->ndim, ==, 3);
  g_assert_cmpint (lr->shape[0], ==, 24);
  g_assert_cmpint (lr->shape[1], ==, 32);
  g_assert_cmpint (lr->shape[2], ==, 3);
  g_assert_cmpint (sr->numel, ==, 3 * 96 * 128);
  g_assert_cmpstr (fixture_meta (f, "case"), ==, "a");
  fixture_close (f);
}

/* Writing then reading gives back the same names, shapes, bits, order. */
static void
test_round_trip (void)
{
  char *dir = g_dir_make_tmp ("refsr-st-XXXXXX", NULL);
  char *path = g_build_filename (dir, "t.safetensors", NULL);
  float a[6] = { 1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-30f };
  float b[1] = { 42.0f };
  RefsrSafetensorsEntry entries[] = {
    { "first \"quoted\"", "F32", 2, { 2, 3 }, a },
    { "second", "F32", 1, { 1 }, b },
  };
  GHashTable *meta = g_hash_table_new (g_str_hash, g_str_equal);
  GError *error = NULL;
  RefsrStateDict *sd;
  const RefsrStateTensor *t;
  char *bytes;
  gsize len;

  g_hash_table_insert (meta, "note", "a\nb");
  g_assert_true (refsr_safetensors_write (path, entries, 2, meta, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  /* the data block starts 8-byte aligned */
  g_assert_cmpint ((8 + GUINT32_FROM_LE (*(guint32 *) bytes)) % 8, ==, 0);
  sd = refsr_safetensors_read ((guint8 *) bytes, len, "t", &error);
  g_assert_no_error (error);
  g_assert_cmpint (sd->tensors->len, ==, 2);
  t = g_ptr_array_index (sd->tensors, 0);
  g_assert_cmpstr (t->name, ==, "first \"quoted\"");
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpmem (t->data, sizeof a, a, sizeof a);
  t = refsr_state_dict_get (sd, "second");
  g_assert_cmpfloat (t->data[0], ==, 42.0f);
  refsr_state_dict_free (sd);
  g_free (bytes);
  g_hash_table_unref (meta);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

static guint8 *
one_tensor_file (const char *dtype, const guint8 *data, gsize nbytes,
                 gsize *size)
{
  char *header = g_strdup_printf (
      "{\"w\":{\"dtype\":\"%s\",\"shape\":[%" G_GSIZE_FORMAT "],"
      "\"data_offsets\":[0,%" G_GSIZE_FORMAT "]}}",
      dtype, nbytes / (dtype[0] == 'F' && dtype[1] == '3' ? 4 : 2), nbytes);
  gsize hlen = strlen (header);
  guint8 *file = g_malloc (8 + hlen + nbytes);

  for (int i = 0; i < 8; i++)
    file[i] = (guint8) ((guint64) hlen >> (8 * i));
  memcpy (file + 8, header, hlen);
  memcpy (file + 8 + hlen, data, nbytes);
  *size = 8 + hlen + nbytes;
  g_free (header);
  return file;
}

/* F16 and BF16 decode to the float32 values their bit patterns denote
 * (IEEE 754 binary16; bfloat16 = upper half of a binary32). */
static void
test_half_precision (void)
{
  const guint16 f16[] = { 0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000,
                          0x7c00 };
  const float f16_want[] = { 1.0f, -2.0f, 0.333251953125f,
                             5.9604644775390625e-8f, 65504.0f, -0.0f,
                             INFINITY };
  const guint16 bf16[] = { 0x3f80, 0xc0a0, 0x3eaa };
  const float bf16_want[] = { 1.0f, -5.0f, 0.33203125f };
  struct { const char *dtype; const guint16 *in; const float *want; int n; }
  cases[] = { { "F16", f16, f16_want, 7 }, { "BF16", bf16, bf16_want, 3 } };

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gsize size;
      guint8 *file = one_tensor_file (cases[c].dtype,
                                      (const guint8 *) cases[c].in,
                                      2 * cases[c].n, &size);
      GError *error = NULL;
      RefsrStateDict *sd = refsr_safetensors_read (file, size, "h", &error);
      const RefsrStateTensor *t;

      g_assert_no_error (error);
      t = refsr_state_dict_get (sd, "w");
      for (int i = 0; i < cases[c].n; i++)
        {
          g_assert_cmpfloat (t->data[i], ==, cases[c].want[i]);
          g_assert_cmpint (signbit (t->data[i]), ==,
                           signbit (cases[c].want[i]));
        }
      refsr_state_dict_free (sd);
      g_free (file);
    }
}

/* A header with no tensors is valid and gives an empty index; one with
 * a trailing comma is not. */
static void
test_empty_header (void)
{
  static const guint8 empty[] = "\x02\0\0\0\0\0\0\0{}";
  static const guint8 comma[] = "\x03\0\0\0\0\0\0\0{,}";
  GError *error = NULL;
  RefsrSafetensorsIndex *index = refsr_safetensors_index (empty, 10, "e",
                                                          &error);

  g_assert_no_error (error);
  g_assert_cmpint (index->items->len, ==, 0);
  refsr_safetensors_index_free (index);
  g_assert_null (refsr_safetensors_index (comma, 11, "c", &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_clear_error (&error);
}

/* The first byte of a safetensors file is the low byte of its header
 * length; 0x80 (the pickle PROTO opcode) must not make it a checkpoint. */
static void
test_header_length_0x80 (void)
{
  char *dir = g_dir_make_tmp ("refsr-st-XXXXXX", NULL);
  char *path = g_build_filename (dir, "t.safetensors", NULL);
  float a = 3.0f;
  RefsrSafetensorsEntry e = { "a", "F32", 1, { 1 }, &a };
  gboolean found = FALSE;

  for (int pad = 0; pad < 256 && !found; pad++)
    {
      GHashTable *meta = g_hash_table_new (g_str_hash, g_str_equal);
      char *value = g_strnfill (pad, 'x');
      char *bytes;
      gsize len;

      g_hash_table_insert (meta, "pad", value);
      g_assert_true (refsr_safetensors_write (path, &e, 1, meta, NULL));
      g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
      if ((guint8) bytes[0] == 0x80)
        {
          GError *error = NULL;
          RefsrStateDict *sd = refsr_weights_read ((guint8 *) bytes, len,
                                                      "t", &error);
          g_assert_no_error (error);
          g_assert_cmpfloat (refsr_state_dict_get (sd, "a")->data[0], ==, 3.0f);
          refsr_state_dict_free (sd);
          found = TRUE;
        }
      g_free (bytes);
      g_free (value);
      g_hash_table_unref (meta);
    }
  g_assert_true (found);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

/* Bytes that are no weights format get a message saying so. */
static void
test_not_weights (void)
{
  static const guint8 text[] = "just some text, not weights";
  GError *error = NULL;

  g_assert_null (refsr_weights_read (text, sizeof text, "w", &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "neither safetensors nor"));
  g_clear_error (&error);
}

/* A failed write leaves no file behind. */
static void
test_write_failure_leaves_nothing (void)
{
  float a = 1.0f;
  RefsrSafetensorsEntry e = { "a", "F32", 1, { 1 }, &a };
  GError *error = NULL;

  g_assert_false (refsr_safetensors_write ("/nonexistent-dir/x.safetensors",
                                           &e, 1, NULL, &error));
  g_assert_error (error, REFSR_ERROR, REFSR_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (g_file_test ("/nonexistent-dir/x.safetensors",
                               G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safetensors/index-fixture", test_index_fixture);
  g_test_add_func ("/safetensors/round-trip", test_round_trip);
  g_test_add_func ("/safetensors/half-precision", test_half_precision);
  g_test_add_func ("/safetensors/empty-header", test_empty_header);
  g_test_add_func ("/safetensors/header-length-0x80", test_header_length_0x80);
  g_test_add_func ("/safetensors/not-weights", test_not_weights);
  g_test_add_func ("/safetensors/write-failure", test_write_failure_leaves_nothing);
  return g_test_run ();
}
