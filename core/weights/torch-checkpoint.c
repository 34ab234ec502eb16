/* torch-checkpoint.c — reads a PyTorch state dict (torch.save of a dict of
 * tensors) in the legacy format (PyTorch < 1.6) or the zip container.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Nothing in the file is trusted: the pickles go through the restricted
 * unpickler of pickle.c, the zip directory is parsed here with every
 * offset checked, and each tensor's offset, sizes and strides are checked
 * against its storage before a single value is copied. */
#include "torch-checkpoint.h"

#include <string.h>

#include "bytes.h"
#include "pickle.h"
#include "tensor.h"

typedef enum
{
  STORAGE_F32,
  STORAGE_F16,
  STORAGE_BF16
} StorageDtype;

typedef struct
{
  char *key;
  StorageDtype dtype;
  gsize elem_size;
  gint64 numel;
  const guint8 *bytes; /* numel * elem_size bytes in the file, once found */
} Storage;

/* One dict entry: a view (offset, sizes, strides) of a storage. */
typedef struct
{
  const char *name;  /* not NUL-terminated: points into the file */
  gsize name_len;
  Storage *storage;
  gint64 offset;
  int ndim;
  gint64 size[REFSR_MAX_DIMS];
  gint64 stride[REFSR_MAX_DIMS];
  gint64 numel;
} TensorView;

typedef struct
{
  const guint8 *data;
  gsize size;
  const char *what;
  GHashTable *storages; /* key -> Storage* (owned) */
  GArray *views;        /* TensorView, in dict order */
  guint64 total_numel;
} TorchReader;

static gboolean G_GNUC_PRINTF (3, 4)
torch_fail (const TorchReader *r, GError **error, const char *format, ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
               "weights file '%s': %s", r->what, message);
  g_free (message);
  return FALSE;
}

static void
storage_free (gpointer p)
{
  Storage *s = p;

  g_free (s->key);
  g_free (s);
}

static gboolean
storage_dtype (const TorchReader *r, const RefsrPickleValue *type,
               StorageDtype *dtype, gsize *elem_size, GError **error)
{
  const char *name;

  if (type->kind != REFSR_PICKLE_GLOBAL
      || (strcmp (type->u.global.module, "torch") != 0
          && strcmp (type->u.global.module, "torch.cuda") != 0))
    return torch_fail (r, error, "storage type at byte %" G_GSIZE_FORMAT
                       " is not a torch storage class", type->offset);
  name = type->u.global.name;
  if (strcmp (name, "FloatStorage") == 0)
    *dtype = STORAGE_F32, *elem_size = 4;
  else if (strcmp (name, "HalfStorage") == 0)
    *dtype = STORAGE_F16, *elem_size = 2;
  else if (strcmp (name, "BFloat16Storage") == 0)
    *dtype = STORAGE_BF16, *elem_size = 2;
  else
    return torch_fail (r, error, "storage type %s.%s at byte %" G_GSIZE_FORMAT
                       " is not supported (only float32, float16 and "
                       "bfloat16 tensors)", type->u.global.module, name,
                       type->offset);
  return TRUE;
}

/* The persistent id ('storage', type, key, location, numel[, None]). */
static Storage *
resolve_persid (TorchReader *r, const RefsrPickleValue *persid,
                GError **error)
{
  const RefsrPickleValue *pid = persid->items[0], *const *it;
  StorageDtype dtype;
  gsize elem_size;
  Storage *s;
  char *key;

  if (pid->kind != REFSR_PICKLE_TUPLE || pid->n_items < 5 || pid->n_items > 6
      || !refsr_pickle_is_string (pid->items[0], "storage")
      || pid->items[2]->kind != REFSR_PICKLE_STRING
      || pid->items[3]->kind != REFSR_PICKLE_STRING
      || pid->items[4]->kind != REFSR_PICKLE_INT
      || pid->items[4]->u.integer < 0
      || (pid->n_items == 6 && pid->items[5]->kind != REFSR_PICKLE_NONE))
    {
      torch_fail (r, error, "persistent id at byte %" G_GSIZE_FORMAT " is "
                  "not ('storage', type, key, location, size)",
                  persid->offset);
      return NULL;
    }
  it = (const RefsrPickleValue *const *) pid->items;
  if (!storage_dtype (r, it[1], &dtype, &elem_size, error))
    return NULL;
  key = g_strndup (it[2]->u.str.data, it[2]->u.str.len);
  s = g_hash_table_lookup (r->storages, key);
  if (s != NULL)
    {
      g_free (key);
      if (s->dtype != dtype || s->numel != it[4]->u.integer)
        {
          torch_fail (r, error, "storage '%s' is declared twice with "
                      "different types or sizes", s->key);
          return NULL;
        }
      return s;
    }
  s = g_new0 (Storage, 1);
  s->key = key;
  s->dtype = dtype;
  s->elem_size = elem_size;
  s->numel = it[4]->u.integer;
  g_hash_table_insert (r->storages, s->key, s);
  return s;
}

static gboolean
int_tuple (const RefsrPickleValue *v, gint64 *out, int *n)
{
  if (v->kind != REFSR_PICKLE_TUPLE || v->n_items > REFSR_MAX_DIMS)
    return FALSE;
  for (gsize i = 0; i < v->n_items; i++)
    {
      if (v->items[i]->kind != REFSR_PICKLE_INT)
        return FALSE;
      out[i] = v->items[i]->u.integer;
    }
  *n = (int) v->n_items;
  return TRUE;
}

/* Checks that every element the view addresses lies in its storage, and
 * bounds what the file can make us allocate: a view may not have more
 * elements than its storage, nor all views together more than the file has
 * bytes (stored values take at least 2 bytes each). */
static gboolean
check_view (TorchReader *r, TensorView *v, const char *name, GError **error)
{
  guint64 numel = 1, last = (guint64) v->offset;

  if (v->offset < 0)
    return torch_fail (r, error, "tensor %s has a negative storage offset",
                       name);
  for (int d = 0; d < v->ndim; d++)
    {
      if (v->size[d] < 0 || v->stride[d] < 0)
        return torch_fail (r, error, "tensor %s has a negative size or "
                           "stride in dimension %d", name, d);
      if (v->size[d] != 0 && numel > (guint64) G_MAXINT64 / v->size[d])
        return torch_fail (r, error, "tensor %s: the number of elements "
                           "overflows", name);
      numel *= (guint64) v->size[d];
    }
  if (numel > (guint64) v->storage->numel)
    return torch_fail (r, error, "tensor %s has %" G_GUINT64_FORMAT
                       " elements, more than its storage '%s' (%"
                       G_GINT64_FORMAT ")", name, numel, v->storage->key,
                       v->storage->numel);
  r->total_numel += numel;
  if (r->total_numel > r->size)
    return torch_fail (r, error, "the tensors have more elements than the "
                       "file can hold");
  v->numel = (gint64) numel;
  if (numel == 0)
    return TRUE;
  for (int d = 0; d < v->ndim; d++)
    {
      guint64 span = (guint64) (v->size[d] - 1);
      if (span != 0 && (guint64) v->stride[d] > (G_MAXINT64 - last) / span)
        return torch_fail (r, error, "tensor %s: strides overflow", name);
      last += span * (guint64) v->stride[d];
    }
  if (last >= (guint64) v->storage->numel)
    return torch_fail (r, error, "tensor %s reaches element %" G_GUINT64_FORMAT
                       " of storage '%s', which has only %" G_GINT64_FORMAT,
                       name, last, v->storage->key, v->storage->numel);
  return TRUE;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
 * backward_hooks[, metadata]) or the older _rebuild_tensor(storage,
 * offset, size, stride). */
static gboolean
parse_rebuild (TorchReader *r, const RefsrPickleValue *key,
               const RefsrPickleValue *value, GError **error)
{
  TensorView view = { 0 };
  const RefsrPickleValue *args;
  char *name = g_strndup (key->u.str.data, key->u.str.len);
  int n_stride = -1;
  gboolean v2, ok = FALSE;

  if (value->kind != REFSR_PICKLE_REBUILD)
    {
      torch_fail (r, error, "entry %s is a %s, not a tensor", name,
                  refsr_pickle_kind_name (value->kind));
      goto out;
    }
  args = value->u.call.args;
  v2 = strcmp (value->u.call.callee->u.global.name, "_rebuild_tensor_v2") == 0;
  if (args->n_items < 4 || (!v2 && args->n_items != 4)
      || (v2 && args->n_items != 6 && args->n_items != 7)
      || args->items[0]->kind != REFSR_PICKLE_PERSID
      || args->items[1]->kind != REFSR_PICKLE_INT
      || !int_tuple (args->items[2], view.size, &view.ndim)
      || !int_tuple (args->items[3], view.stride, &n_stride)
      || n_stride != view.ndim)
    {
      torch_fail (r, error, "tensor %s (byte %" G_GSIZE_FORMAT ") is not "
                  "rebuilt from (storage, offset, size, stride)", name,
                  value->offset);
      goto out;
    }
  view.name = key->u.str.data;
  view.name_len = key->u.str.len;
  view.offset = args->items[1]->u.integer;
  view.storage = resolve_persid (r, args->items[0], error);
  if (view.storage == NULL || !check_view (r, &view, name, error))
    goto out;
  g_array_append_val (r->views, view);
  ok = TRUE;
out:
  g_free (name);
  return ok;
}

static gboolean
parse_object (TorchReader *r, const RefsrPickleValue *root, GError **error)
{
  if (root->kind != REFSR_PICKLE_DICT)
    return torch_fail (r, error, "the checkpoint holds a %s, not a dict of "
                       "tensors", refsr_pickle_kind_name (root->kind));
  for (gsize i = 0; i + 1 < root->n_items; i += 2)
    {
      if (root->items[i]->kind != REFSR_PICKLE_STRING)
        return torch_fail (r, error, "a key of the dict (byte %"
                           G_GSIZE_FORMAT ") is a %s, not a string",
                           root->items[i]->offset,
                           refsr_pickle_kind_name (root->items[i]->kind));
      if (!parse_rebuild (r, root->items[i], root->items[i + 1], error))
        return FALSE;
    }
  return TRUE;
}

static float
load_element (const Storage *s, gint64 index)
{
  const guint8 *b = s->bytes + (gsize) index * s->elem_size;

  switch (s->dtype)
    {
    case STORAGE_F32:
      return refsr_bits_to_f32 (refsr_read_le32 (b));
    case STORAGE_F16:
      return refsr_f16_to_f32 (refsr_read_le16 (b));
    default:
      return refsr_bf16_to_f32 (refsr_read_le16 (b));
    }
}

static gboolean
is_contiguous (const TensorView *v)
{
  gint64 expected = 1;

  for (int d = v->ndim - 1; d >= 0; d--)
    {
      if (v->size[d] != 1 && v->stride[d] != expected)
        return FALSE;
      expected *= v->size[d];
    }
  return TRUE;
}

/* Copies the view's elements in C order (as_strided) into floats. */
static void
gather (const TensorView *v, float *out)
{
  gint64 counter[REFSR_MAX_DIMS] = { 0 };
  gint64 src = v->offset;

  if (is_contiguous (v))
    {
      if (v->storage->dtype == STORAGE_F32 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
        memcpy (out, v->storage->bytes + (gsize) v->offset * 4,
                (gsize) v->numel * 4);
      else
        for (gint64 i = 0; i < v->numel; i++)
          out[i] = load_element (v->storage, v->offset + i);
      return;
    }
  for (gint64 i = 0; i < v->numel; i++)
    {
      out[i] = load_element (v->storage, src);
      for (int d = v->ndim - 1; d >= 0; d--)
        {
          src += v->stride[d];
          if (++counter[d] < v->size[d])
            break;
          src -= v->stride[d] * v->size[d];
          counter[d] = 0;
        }
    }
}

static RefsrStateDict *
build_state_dict (TorchReader *r, GError **error)
{
  RefsrStateDict *sd = refsr_state_dict_new ();
  GHashTableIter iter;
  Storage *s;

  g_hash_table_iter_init (&iter, r->storages);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    if (s->bytes == NULL && s->numel > 0)
      {
        torch_fail (r, error, "the data of storage '%s' is missing", s->key);
        refsr_state_dict_free (sd);
        return NULL;
      }
  for (guint i = 0; i < r->views->len; i++)
    {
      const TensorView *v = &g_array_index (r->views, TensorView, i);
      float *values = refsr_try_alloc ((gsize) v->numel, sizeof (float),
                                       error);
      char *name = g_strndup (v->name, v->name_len);
      gboolean ok = values != NULL;

      if (ok)
        gather (v, values);
      if (ok && !refsr_state_dict_add (sd, name, v->ndim, v->size, values,
                                       error))
        {
          g_prefix_error (error, "weights file '%s': ", r->what);
          ok = FALSE;
        }
      g_free (name);
      if (!ok)
        {
          refsr_state_dict_free (sd);
          return NULL;
        }
    }
  return sd;
}

/* ---- legacy format: five pickles, then the storages' data ---------- */

/* The magic number, protocol version and system information pickles take
 * some 20 to 100 bytes; anything much longer is not a PyTorch file and is
 * rejected without unpickling it all. */
#define LEGACY_HEADER_PICKLE_MAX 4096

static RefsrPickle *
next_pickle (TorchReader *r, gsize *pos, gsize max_size, RefsrPickleKind kind,
             const char *role, GError **error)
{
  gsize used;
  RefsrPickle *p = refsr_pickle_load (r->data + *pos, r->size - *pos,
                                      max_size, *pos, r->what, &used, error);

  if (p == NULL)
    return NULL;
  if (refsr_pickle_root (p)->kind != kind)
    {
      torch_fail (r, error, "the %s at byte %" G_GSIZE_FORMAT " is a %s, not "
                  "a %s", role, *pos,
                  refsr_pickle_kind_name (refsr_pickle_root (p)->kind),
                  refsr_pickle_kind_name (kind));
      refsr_pickle_free (p);
      return NULL;
    }
  *pos += used;
  return p;
}

/* Magic number, protocol version and byte order. */
static gboolean
legacy_header (TorchReader *r, gsize *pos, GError **error)
{
  static const guint8 magic[10] = { 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                    0x20, 0x6a, 0xa8, 0x50, 0x19 };
  RefsrPickle *p;
  const RefsrPickleValue *v;
  gboolean ok;

  if ((p = next_pickle (r, pos, LEGACY_HEADER_PICKLE_MAX,
                        REFSR_PICKLE_BIGINT, "magic number",
                        error)) == NULL)
    return FALSE;
  v = refsr_pickle_root (p);
  ok = v->u.str.len == sizeof magic && memcmp (v->u.str.data, magic,
                                                sizeof magic) == 0;
  refsr_pickle_free (p);
  if (!ok)
    return torch_fail (r, error, "wrong magic number: not a PyTorch file");
  if ((p = next_pickle (r, pos, LEGACY_HEADER_PICKLE_MAX,
                        REFSR_PICKLE_INT, "protocol version",
                        error)) == NULL)
    return FALSE;
  ok = refsr_pickle_root (p)->u.integer == 1001;
  refsr_pickle_free (p);
  if (!ok)
    return torch_fail (r, error, "unknown legacy protocol version");
  if ((p = next_pickle (r, pos, LEGACY_HEADER_PICKLE_MAX,
                        REFSR_PICKLE_DICT, "system information",
                        error)) == NULL)
    return FALSE;
  v = refsr_pickle_dict_get (refsr_pickle_root (p), "little_endian");
  ok = v != NULL && v->kind == REFSR_PICKLE_BOOL && v->u.boolean;
  refsr_pickle_free (p);
  if (!ok)
    return torch_fail (r, error, "saved on a big-endian machine "
                       "(little_endian is not True); not supported");
  return TRUE;
}

/* Per storage key: int64 element count, then the raw values. */
static gboolean
legacy_data (TorchReader *r, const RefsrPickleValue *keys, gsize pos,
             GError **error)
{
  for (gsize i = 0; i < keys->n_items; i++)
    {
      const RefsrPickleValue *k = keys->items[i];
      char *key;
      Storage *s;
      guint64 count;

      if (k->kind != REFSR_PICKLE_STRING)
        return torch_fail (r, error, "storage key %" G_GSIZE_FORMAT
                           " is not a string", i);
      key = g_strndup (k->u.str.data, k->u.str.len);
      s = g_hash_table_lookup (r->storages, key);
      g_free (key);
      if (s == NULL || s->bytes != NULL)
        return torch_fail (r, error, "storage key %" G_GSIZE_FORMAT " is "
                           "unknown or listed twice", i);
      if (r->size - pos < 8)
        return torch_fail (r, error, "file truncated at byte %"
                           G_GSIZE_FORMAT " (data of storage '%s')", pos,
                           s->key);
      count = refsr_read_le64 (r->data + pos);
      pos += 8;
      if (count != (guint64) s->numel)
        return torch_fail (r, error, "storage '%s' at byte %" G_GSIZE_FORMAT
                           " holds %" G_GUINT64_FORMAT " elements, the "
                           "tensors expect %" G_GINT64_FORMAT, s->key,
                           pos - 8, count, s->numel);
      if (count > (r->size - pos) / s->elem_size)
        return torch_fail (r, error, "file truncated at byte %"
                           G_GSIZE_FORMAT " (data of storage '%s')", r->size,
                           s->key);
      s->bytes = r->data + pos;
      pos += count * s->elem_size;
    }
  return TRUE;
}

static gboolean
read_legacy (TorchReader *r, GError **error)
{
  gsize pos = 0;
  RefsrPickle *object = NULL, *keys = NULL;
  gboolean ok;

  ok = legacy_header (r, &pos, error)
       && (object = next_pickle (r, &pos, G_MAXSIZE, REFSR_PICKLE_DICT,
                                 "checkpoint",
                                 error)) != NULL
       && parse_object (r, refsr_pickle_root (object), error)
       && (keys = next_pickle (r, &pos, G_MAXSIZE, REFSR_PICKLE_LIST,
                               "storage list",
                               error)) != NULL
       && legacy_data (r, refsr_pickle_root (keys), pos, error);
  refsr_pickle_free (keys);
  refsr_pickle_free (object); /* views keep only names, which live in data */
  return ok;
}

/* ---- zip container: stored entries only ----------------------------- */

typedef struct
{
  guint16 method;
  guint64 compressed, size, local_offset;
} ZipEntry;

/* Finds the central directory: its offset, size and entry count, from the
 * end-of-central-directory record (or its zip64 version). */
static gboolean
zip_directory (const TorchReader *r, guint64 *cd_offset, guint64 *cd_size,
               guint64 *n_entries, GError **error)
{
  gsize eocd = 0;
  gboolean found = FALSE;

  for (gsize back = 22; back <= r->size && back <= 22 + 65535; back++)
    if (memcmp (r->data + r->size - back, "PK\5\6", 4) == 0)
      {
        eocd = r->size - back;
        found = TRUE;
        break;
      }
  if (!found)
    return torch_fail (r, error, "zip end-of-directory record not found "
                       "(file truncated?)");
  *n_entries = refsr_read_le16 (r->data + eocd + 10);
  *cd_size = refsr_read_le32 (r->data + eocd + 12);
  *cd_offset = refsr_read_le32 (r->data + eocd + 16);
  if (*n_entries == 0xffff || *cd_size == 0xffffffff
      || *cd_offset == 0xffffffff)
    {
      guint64 rec;
      if (eocd < 20 || memcmp (r->data + eocd - 20, "PK\6\7", 4) != 0)
        return torch_fail (r, error, "zip64 locator missing");
      rec = refsr_read_le64 (r->data + eocd - 20 + 8);
      if (rec > eocd || eocd - rec < 56
          || memcmp (r->data + rec, "PK\6\6", 4) != 0)
        return torch_fail (r, error, "zip64 end-of-directory record is "
                           "outside the file");
      *n_entries = refsr_read_le64 (r->data + rec + 32);
      *cd_size = refsr_read_le64 (r->data + rec + 40);
      *cd_offset = refsr_read_le64 (r->data + rec + 48);
    }
  if (*cd_offset > eocd || *cd_size > eocd - *cd_offset)
    return torch_fail (r, error, "zip central directory (bytes %"
                       G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT ") lies "
                       "outside the file", *cd_offset, *cd_size);
  return TRUE;
}

/* Replaces saturated 32-bit fields by their zip64 extra-field values. */
static gboolean
zip64_extra (const guint8 *extra, gsize len, ZipEntry *e)
{
  guint64 *fields[3] = { &e->size, &e->compressed, &e->local_offset };

  while (len >= 4)
    {
      guint16 id = refsr_read_le16 (extra), n = refsr_read_le16 (extra + 2);
      if (n > len - 4)
        return FALSE;
      if (id == 1)
        {
          const guint8 *p = extra + 4;
          for (int f = 0; f < 3; f++)
            if (*fields[f] == 0xffffffff)
              {
                if (p + 8 > extra + 4 + n)
                  return FALSE;
                *fields[f] = refsr_read_le64 (p);
                p += 8;
              }
          return TRUE;
        }
      extra += 4 + n;
      len -= 4 + n;
    }
  return e->size != 0xffffffff && e->compressed != 0xffffffff
         && e->local_offset != 0xffffffff;
}

/* Reads the central directory into name -> ZipEntry*. */
static GHashTable *
zip_entries (const TorchReader *r, GError **error)
{
  guint64 cd, cd_size, n, pos;
  GHashTable *entries;

  if (!zip_directory (r, &cd, &cd_size, &n, error))
    return NULL;
  entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  pos = cd;
  for (guint64 i = 0; i < n; i++)
    {
      const guint8 *h = r->data + pos;
      ZipEntry *e;
      guint64 name_len, extra_len, total;
      char *name;

      if (cd + cd_size - pos < 46 || memcmp (h, "PK\1\2", 4) != 0)
        goto bad;
      name_len = refsr_read_le16 (h + 28);
      extra_len = refsr_read_le16 (h + 30);
      total = 46 + name_len + extra_len + refsr_read_le16 (h + 32);
      if (cd + cd_size - pos < total)
        goto bad;
      e = g_new0 (ZipEntry, 1);
      e->method = refsr_read_le16 (h + 10)
                  | ((refsr_read_le16 (h + 8) & 1) ? 0x8000 : 0);
      e->compressed = refsr_read_le32 (h + 20);
      e->size = refsr_read_le32 (h + 24);
      e->local_offset = refsr_read_le32 (h + 42);
      name = g_strndup ((const char *) h + 46, name_len);
      if (g_hash_table_contains (entries, name))
        {
          g_free (name);
          g_free (e);
          goto bad;
        }
      g_hash_table_insert (entries, name, e);
      if (!zip64_extra (h + 46 + name_len, extra_len, e))
        goto bad;
      pos += total;
    }
  return entries;
bad:
  torch_fail (r, error, "zip central directory entry at byte %"
              G_GUINT64_FORMAT " is malformed", pos);
  g_hash_table_unref (entries);
  return NULL;
}

/* The bytes of a stored entry, checked to lie in the file. */
static const guint8 *
zip_entry_data (const TorchReader *r, GHashTable *entries, const char *name,
                guint64 *size, GError **error)
{
  const ZipEntry *e = g_hash_table_lookup (entries, name);
  guint64 start;

  if (e == NULL)
    {
      torch_fail (r, error, "zip entry '%s' is missing", name);
      return NULL;
    }
  if (e->method != 0 || e->compressed != e->size)
    {
      torch_fail (r, error, "zip entry '%s' is compressed or encrypted "
                  "(method %u); only stored entries, as torch.save writes "
                  "them, are supported", name, e->method & 0x7fff);
      return NULL;
    }
  if (e->local_offset > r->size || r->size - e->local_offset < 30
      || memcmp (r->data + e->local_offset, "PK\3\4", 4) != 0)
    {
      torch_fail (r, error, "zip entry '%s' points outside the file", name);
      return NULL;
    }
  start = e->local_offset + 30
          + refsr_read_le16 (r->data + e->local_offset + 26)
          + refsr_read_le16 (r->data + e->local_offset + 28);
  if (start > r->size || e->size > r->size - start)
    {
      torch_fail (r, error, "zip entry '%s' (%" G_GUINT64_FORMAT " bytes at "
                  "byte %" G_GUINT64_FORMAT ") extends past the end of the "
                  "file", name, e->size, start);
      return NULL;
    }
  *size = e->size;
  return r->data + start;
}

/* The archive's folder name: the one "<prefix>/data.pkl" entry. */
static char *
zip_prefix (const TorchReader *r, GHashTable *entries, GError **error)
{
  GHashTableIter iter;
  const char *name;
  char *prefix = NULL;

  g_hash_table_iter_init (&iter, entries);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      const char *slash = strchr (name, '/');
      if (slash == NULL || strcmp (slash, "/data.pkl") != 0)
        continue;
      if (prefix != NULL)
        {
          torch_fail (r, error, "the zip holds more than one data.pkl");
          g_free (prefix);
          return NULL;
        }
      prefix = g_strndup (name, slash + 1 - name);
    }
  if (prefix == NULL)
    torch_fail (r, error, "the zip has no <name>/data.pkl: not a PyTorch "
                "checkpoint");
  return prefix;
}

static gboolean
zip_storages (TorchReader *r, GHashTable *entries, const char *prefix,
              GError **error)
{
  GHashTableIter iter;
  Storage *s;
  char *name = g_strconcat (prefix, "byteorder", NULL);
  const ZipEntry *order = g_hash_table_lookup (entries, name);
  guint64 size;
  const guint8 *bytes;

  if (order != NULL)
    {
      bytes = zip_entry_data (r, entries, name, &size, error);
      if (bytes == NULL || size != 6 || memcmp (bytes, "little", 6) != 0)
        {
          g_free (name);
          return bytes == NULL ? FALSE
                 : torch_fail (r, error, "saved on a big-endian machine; "
                               "not supported");
        }
    }
  g_free (name);
  g_hash_table_iter_init (&iter, r->storages);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    {
      name = g_strconcat (prefix, "data/", s->key, NULL);
      bytes = zip_entry_data (r, entries, name, &size, error);
      g_free (name);
      if (bytes == NULL)
        return FALSE;
      if (size / s->elem_size < (guint64) s->numel)
        return torch_fail (r, error, "storage '%s' has %" G_GUINT64_FORMAT
                           " bytes, its tensors need %" G_GINT64_FORMAT,
                           s->key, size, s->numel * (gint64) s->elem_size);
      s->bytes = bytes;
    }
  return TRUE;
}

static gboolean
read_zip (TorchReader *r, GError **error)
{
  GHashTable *entries = zip_entries (r, error);
  char *prefix = NULL, *pkl_name = NULL;
  const guint8 *pkl;
  guint64 pkl_size;
  RefsrPickle *object = NULL;
  gboolean ok = FALSE;

  if (entries == NULL || (prefix = zip_prefix (r, entries, error)) == NULL)
    goto out;
  pkl_name = g_strconcat (prefix, "data.pkl", NULL);
  pkl = zip_entry_data (r, entries, pkl_name, &pkl_size, error);
  if (pkl == NULL)
    goto out;
  object = refsr_pickle_load (pkl, pkl_size, G_MAXSIZE, pkl - r->data,
                              r->what, NULL, error);
  ok = object != NULL && parse_object (r, refsr_pickle_root (object), error)
       && zip_storages (r, entries, prefix, error);
out:
  refsr_pickle_free (object);
  g_free (pkl_name);
  g_free (prefix);
  if (entries != NULL)
    g_hash_table_unref (entries);
  return ok;
}

RefsrStateDict *
refsr_torch_read (const guint8 *data, gsize size, const char *what,
                  GError **error)
{
  TorchReader r = { data, size, what, NULL, NULL, 0 };
  RefsrStateDict *sd = NULL;
  gboolean ok;

  r.storages = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      storage_free);
  r.views = g_array_new (FALSE, FALSE, sizeof (TensorView));
  if (size >= 4 && memcmp (data, "PK\3\4", 4) == 0)
    ok = read_zip (&r, error);
  else if (size >= 1 && data[0] == 0x80)
    ok = read_legacy (&r, error);
  else
    ok = torch_fail (&r, error, "not a PyTorch checkpoint (neither a zip "
                     "nor a legacy pickle)");
  if (ok)
    sd = build_state_dict (&r, error);
  g_array_unref (r.views);
  g_hash_table_unref (r.storages);
  return sd;
}
