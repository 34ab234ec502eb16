/* torch-writer.h — writes small PyTorch checkpoints (legacy and zip) the
 * way torch.save lays them out, for the loader tests.  Header-only: each
 * test includes it once.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_TEST_TORCH_WRITER_H
#define REFSR_TEST_TORCH_WRITER_H

#include <string.h>

#include "state-dict.h"

typedef struct
{
  const char *name;
  const char *storage_key;
  const float *storage;  /* storage_numel floats */
  gint64 storage_numel;
  gint64 offset;
  int ndim;
  gint64 size[REFSR_MAX_DIMS];
  gint64 stride[REFSR_MAX_DIMS];
} TorchEntry;

typedef struct
{
  const char *storage_module; /* "torch" or "torch.cuda" */
  const char *location;       /* "cpu", "cuda:0" */
} TorchStyle;

static void
pk_byte (GByteArray *b, guint8 v)
{
  g_byte_array_append (b, &v, 1);
}

static void
pk_le (GByteArray *b, guint64 v, int n)
{
  for (int i = 0; i < n; i++)
    pk_byte (b, (guint8) (v >> (8 * i)));
}

static void
pk_string (GByteArray *b, const char *s)
{
  pk_byte (b, 'X');
  pk_le (b, strlen (s), 4);
  g_byte_array_append (b, (const guint8 *) s, strlen (s));
}

static void
pk_int (GByteArray *b, gint64 v)
{
  if (v >= 0 && v < 256)
    pk_byte (b, 'K'), pk_byte (b, (guint8) v);
  else if (v >= 0 && v < 65536)
    pk_byte (b, 'M'), pk_le (b, (guint64) v, 2);
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    pk_byte (b, 'J'), pk_le (b, (guint64) v, 4);
  else
    pk_byte (b, 0x8a), pk_byte (b, 8), pk_le (b, (guint64) v, 8);
}

static void
pk_global (GByteArray *b, const char *module, const char *name)
{
  pk_byte (b, 'c');
  g_byte_array_append (b, (const guint8 *) module, strlen (module));
  pk_byte (b, '\n');
  g_byte_array_append (b, (const guint8 *) name, strlen (name));
  pk_byte (b, '\n');
}

static void
pk_int_tuple (GByteArray *b, const gint64 *v, int n)
{
  pk_byte (b, '(');
  for (int i = 0; i < n; i++)
    pk_int (b, v[i]);
  pk_byte (b, 't');
}

/* The dict of tensors; legacy ids carry a sixth element (None). */
static void
torch_write_object (GByteArray *b, const TorchEntry *entries, int n,
                    const TorchStyle *style, gboolean legacy)
{
  pk_byte (b, 0x80), pk_byte (b, 2);
  pk_byte (b, '}');
  pk_byte (b, '(');
  for (int i = 0; i < n; i++)
    {
      const TorchEntry *e = &entries[i];
      pk_string (b, e->name);
      pk_global (b, "torch._utils", "_rebuild_tensor_v2");
      pk_byte (b, '(');
      pk_byte (b, '(');
      pk_string (b, "storage");
      pk_global (b, style->storage_module, "FloatStorage");
      pk_string (b, e->storage_key);
      pk_string (b, style->location);
      pk_int (b, e->storage_numel);
      if (legacy)
        pk_byte (b, 'N');
      pk_byte (b, 't');
      pk_byte (b, 'Q');
      pk_int (b, e->offset);
      pk_int_tuple (b, e->size, e->ndim);
      pk_int_tuple (b, e->stride, e->ndim);
      pk_byte (b, 0x89);
      pk_global (b, "collections", "OrderedDict");
      pk_byte (b, ')');
      pk_byte (b, 'R');
      pk_byte (b, 't');
      pk_byte (b, 'R');
    }
  pk_byte (b, 'u');
  pk_byte (b, '.');
}

/* Each distinct storage once, in first-use order. */
static GPtrArray *
torch_storages (const TorchEntry *entries, int n)
{
  GPtrArray *seen = g_ptr_array_new ();

  for (int i = 0; i < n; i++)
    {
      gboolean dup = FALSE;
      for (guint j = 0; j < seen->len; j++)
        dup |= strcmp (((const TorchEntry *) seen->pdata[j])->storage_key,
                       entries[i].storage_key) == 0;
      if (!dup)
        g_ptr_array_add (seen, (gpointer) &entries[i]);
    }
  return seen;
}

static GByteArray *
torch_write_legacy (const TorchEntry *entries, int n, const TorchStyle *style)
{
  static const guint8 magic[10] = { 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                    0x20, 0x6a, 0xa8, 0x50, 0x19 };
  GByteArray *b = g_byte_array_new ();
  GPtrArray *storages = torch_storages (entries, n);

  pk_byte (b, 0x80), pk_byte (b, 2), pk_byte (b, 0x8a), pk_byte (b, 10);
  g_byte_array_append (b, magic, 10);
  pk_byte (b, '.');
  pk_byte (b, 0x80), pk_byte (b, 2), pk_int (b, 1001), pk_byte (b, '.');
  pk_byte (b, 0x80), pk_byte (b, 2), pk_byte (b, '}'), pk_byte (b, '(');
  pk_string (b, "little_endian"), pk_byte (b, 0x88);
  pk_byte (b, 'u'), pk_byte (b, '.');
  torch_write_object (b, entries, n, style, TRUE);
  pk_byte (b, 0x80), pk_byte (b, 2), pk_byte (b, ']'), pk_byte (b, '(');
  for (guint i = 0; i < storages->len; i++)
    pk_string (b, ((const TorchEntry *) storages->pdata[i])->storage_key);
  pk_byte (b, 'e'), pk_byte (b, '.');
  for (guint i = 0; i < storages->len; i++)
    {
      const TorchEntry *e = storages->pdata[i];
      pk_le (b, (guint64) e->storage_numel, 8);
      g_byte_array_append (b, (const guint8 *) e->storage,
                           (guint) e->storage_numel * 4);
    }
  g_ptr_array_unref (storages);
  return b;
}

static guint32
zip_crc32 (const guint8 *p, gsize n)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < n; i++)
    {
      crc ^= p[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
  return ~crc;
}

static void
zip_add (GByteArray *zip, GByteArray *cd, const char *name,
         const guint8 *data, gsize size)
{
  guint32 offset = zip->len, crc = zip_crc32 (data, size);
  guint16 name_len = (guint16) strlen (name);

  g_byte_array_append (zip, (const guint8 *) "PK\3\4", 4);
  pk_le (zip, 20, 2), pk_le (zip, 0, 2), pk_le (zip, 0, 2);
  pk_le (zip, 0, 4), pk_le (zip, crc, 4), pk_le (zip, size, 4);
  pk_le (zip, size, 4), pk_le (zip, name_len, 2), pk_le (zip, 0, 2);
  g_byte_array_append (zip, (const guint8 *) name, name_len);
  g_byte_array_append (zip, data, size);
  g_byte_array_append (cd, (const guint8 *) "PK\1\2", 4);
  pk_le (cd, 20, 2), pk_le (cd, 20, 2), pk_le (cd, 0, 2), pk_le (cd, 0, 2);
  pk_le (cd, 0, 4), pk_le (cd, crc, 4), pk_le (cd, size, 4);
  pk_le (cd, size, 4), pk_le (cd, name_len, 2), pk_le (cd, 0, 2);
  pk_le (cd, 0, 2), pk_le (cd, 0, 2), pk_le (cd, 0, 2), pk_le (cd, 0, 4);
  pk_le (cd, offset, 4);
  g_byte_array_append (cd, (const guint8 *) name, name_len);
}

static GByteArray *
torch_write_zip (const TorchEntry *entries, int n, const TorchStyle *style)
{
  GByteArray *zip = g_byte_array_new (), *cd = g_byte_array_new ();
  GByteArray *pkl = g_byte_array_new ();
  GPtrArray *storages = torch_storages (entries, n);
  guint32 cd_offset;
  guint n_entries = storages->len + 2;

  torch_write_object (pkl, entries, n, style, FALSE);
  zip_add (zip, cd, "archive/data.pkl", pkl->data, pkl->len);
  for (guint i = 0; i < storages->len; i++)
    {
      const TorchEntry *e = storages->pdata[i];
      char *name = g_strconcat ("archive/data/", e->storage_key, NULL);
      zip_add (zip, cd, name, (const guint8 *) e->storage,
               (gsize) e->storage_numel * 4);
      g_free (name);
    }
  zip_add (zip, cd, "archive/version", (const guint8 *) "3\n", 2);
  cd_offset = zip->len;
  g_byte_array_append (zip, cd->data, cd->len);
  g_byte_array_append (zip, (const guint8 *) "PK\5\6", 4);
  pk_le (zip, 0, 4), pk_le (zip, n_entries, 2), pk_le (zip, n_entries, 2);
  pk_le (zip, cd->len, 4), pk_le (zip, cd_offset, 4), pk_le (zip, 0, 2);
  g_byte_array_unref (cd);
  g_byte_array_unref (pkl);
  g_ptr_array_unref (storages);
  return zip;
}

#endif
