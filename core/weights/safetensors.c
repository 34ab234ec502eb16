/* safetensors.c — reading and writing the safetensors format.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON, then the
 * data block.  The JSON maps tensor names to {dtype, shape, data_offsets}
 * and may hold "__metadata__" (string -> string).  The header is untrusted:
 * the parser below accepts only that shape of JSON, with bounded depth and
 * every number range-checked, and the index checks that the tensors tile
 * the data block exactly. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "tensor.h"

/* Headers of real files are a few hundred bytes per tensor; 100 MB leaves
 * room for any model while refusing absurd lengths before reading them. */
#define MAX_HEADER_BYTES (100u * 1024u * 1024u)

typedef struct
{
  const char *p, *end, *start;
  const char *what;
  GError **error;
} JsonCursor;

static gboolean
json_fail (JsonCursor *c, const char *problem)
{
  g_set_error (c->error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
               "%s: malformed safetensors header: %s at header byte %ld",
               c->what, problem, (long) (c->p - c->start));
  return FALSE;
}

static void
json_skip_space (JsonCursor *c)
{
  while (c->p < c->end
         && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
    c->p++;
}

static gboolean
json_expect (JsonCursor *c, char ch)
{
  json_skip_space (c);
  if (c->p >= c->end || *c->p != ch)
    {
      char msg[32];
      g_snprintf (msg, sizeof msg, "expected '%c'", ch);
      return json_fail (c, msg);
    }
  c->p++;
  return TRUE;
}

static gboolean
json_peek (JsonCursor *c, char ch)
{
  json_skip_space (c);
  return c->p < c->end && *c->p == ch;
}

static gboolean
json_hex4 (JsonCursor *c, gunichar *out)
{
  *out = 0;
  if (c->end - c->p < 4)
    return json_fail (c, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int v = g_ascii_xdigit_value (c->p[i]);
      if (v < 0)
        return json_fail (c, "bad \\u escape");
      *out = *out * 16 + (gunichar) v;
    }
  c->p += 4;
  return TRUE;
}

static gboolean
json_escape (JsonCursor *c, GString *s)
{
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *hit;
  gunichar u;

  if (c->p >= c->end)
    return json_fail (c, "truncated string");
  hit = strchr (from, *c->p);
  if (hit != NULL && *c->p != '\0')
    {
      g_string_append_c (s, to[hit - from]);
      c->p++;
      return TRUE;
    }
  if (*c->p != 'u')
    return json_fail (c, "bad escape");
  c->p++;
  if (!json_hex4 (c, &u))
    return FALSE;
  if (u >= 0xD800 && u <= 0xDBFF)
    {
      gunichar lo;
      if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
        return json_fail (c, "unpaired surrogate");
      c->p += 2;
      if (!json_hex4 (c, &lo) || lo < 0xDC00 || lo > 0xDFFF)
        return json_fail (c, "unpaired surrogate");
      u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
  else if (u >= 0xDC00 && u <= 0xDFFF)
    return json_fail (c, "unpaired surrogate");
  if (u == 0)
    return json_fail (c, "NUL in string");
  g_string_append_unichar (s, u);
  return TRUE;
}

/* Returns a newly allocated UTF-8 string or NULL with the error set. */
static char *
json_string (JsonCursor *c)
{
  GString *s;

  if (!json_expect (c, '"'))
    return NULL;
  s = g_string_new (NULL);
  while (c->p < c->end && *c->p != '"')
    {
      if ((guchar) *c->p < 0x20)
        {
          json_fail (c, "control character in string");
          return g_string_free (s, TRUE), NULL;
        }
      if (*c->p == '\\')
        {
          c->p++;
          if (!json_escape (c, s))
            return g_string_free (s, TRUE), NULL;
        }
      else
        g_string_append_c (s, *c->p++);
    }
  if (c->p >= c->end || *c->p != '"')
    {
      json_fail (c, "unterminated string");
      return g_string_free (s, TRUE), NULL;
    }
  c->p++;
  if (!g_utf8_validate (s->str, s->len, NULL))
    {
      json_fail (c, "string is not UTF-8");
      return g_string_free (s, TRUE), NULL;
    }
  return g_string_free (s, FALSE);
}

/* A non-negative integer below 2^53 (what the format's writers emit). */
static gboolean
json_uint (JsonCursor *c, gint64 *out)
{
  guint64 v = 0;
  const char *first;

  json_skip_space (c);
  first = c->p;
  while (c->p < c->end && g_ascii_isdigit (*c->p))
    {
      if (v > (G_GUINT64_CONSTANT (1) << 53) / 10)
        return json_fail (c, "number too large");
      v = v * 10 + (guint64) (*c->p++ - '0');
    }
  if (c->p == first)
    return json_fail (c, "expected a non-negative integer");
  if (c->p - first > 1 && *first == '0')
    return json_fail (c, "leading zero in number");
  *out = (gint64) v;
  return TRUE;
}

/* [n, n, ...] with at most max_len entries. */
static gboolean
json_uint_array (JsonCursor *c, gint64 *out, int max_len, int *len)
{
  *len = 0;
  if (!json_expect (c, '['))
    return FALSE;
  if (json_peek (c, ']'))
    return c->p++, TRUE;
  do
    {
      if (*len >= max_len)
        return json_fail (c, "too many dimensions");
      if (!json_uint (c, &out[(*len)++]))
        return FALSE;
    }
  while (json_peek (c, ',') && c->p++);
  return json_expect (c, ']');
}

static gboolean
parse_metadata (JsonCursor *c, GHashTable *metadata)
{
  if (!json_expect (c, '{'))
    return FALSE;
  if (json_peek (c, '}'))
    return c->p++, TRUE;
  do
    {
      char *key = json_string (c), *value;
      if (key == NULL)
        return FALSE;
      if (!json_expect (c, ':') || (value = json_string (c)) == NULL)
        return g_free (key), FALSE;
      g_hash_table_replace (metadata, key, value);
    }
  while (json_peek (c, ',') && c->p++);
  return json_expect (c, '}');
}

static gboolean
parse_entry_field (JsonCursor *c, RefsrSafetensorsItem *item,
                   gint64 offsets[2], unsigned *seen)
{
  char *field = json_string (c);
  gboolean ok;
  int n;

  if (field == NULL || !json_expect (c, ':'))
    return g_free (field), FALSE;
  if (strcmp (field, "dtype") == 0)
    {
      char *dtype = json_string (c);
      ok = dtype != NULL;
      if (ok && strlen (dtype) >= sizeof item->dtype)
        ok = json_fail (c, "unknown dtype");
      if (ok)
        strcpy (item->dtype, dtype);
      g_free (dtype);
      *seen |= 1;
    }
  else if (strcmp (field, "shape") == 0)
    {
      ok = json_uint_array (c, item->shape, REFSR_MAX_DIMS, &item->ndim);
      *seen |= 2;
    }
  else if (strcmp (field, "data_offsets") == 0)
    {
      ok = json_uint_array (c, offsets, 2, &n);
      if (ok && n != 2)
        ok = json_fail (c, "data_offsets needs two numbers");
      *seen |= 4;
    }
  else
    ok = json_fail (c, "unknown field in tensor entry");
  g_free (field);
  return ok;
}

static void
item_free (gpointer p)
{
  RefsrSafetensorsItem *item = p;
  g_free (item->name);
  g_free (item);
}

static RefsrSafetensorsItem *
parse_entry (JsonCursor *c, char *name, gint64 offsets[2])
{
  RefsrSafetensorsItem *item = g_new0 (RefsrSafetensorsItem, 1);
  unsigned seen = 0;

  item->name = name;
  if (!json_expect (c, '{'))
    goto fail;
  do
    if (!parse_entry_field (c, item, offsets, &seen))
      goto fail;
  while (json_peek (c, ',') && c->p++);
  if (!json_expect (c, '}'))
    goto fail;
  if (seen != 7)
    {
      json_fail (c, "tensor entry lacks dtype, shape or data_offsets");
      goto fail;
    }
  return item;
fail:
  item_free (item);
  return NULL;
}

void
refsr_safetensors_index_free (RefsrSafetensorsIndex *index)
{
  if (index == NULL)
    return;
  g_ptr_array_unref (index->items);
  g_hash_table_unref (index->by_name);
  g_hash_table_unref (index->metadata);
  g_free (index);
}

static int
dtype_size (const char *dtype)
{
  static const struct { const char *name; int size; } sizes[] = {
    { "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "I64", 8 },
    { "I32", 4 }, { "I16", 2 }, { "I8", 1 }, { "U8", 1 }, { "BOOL", 1 },
    { "U16", 2 }, { "U32", 4 }, { "U64", 8 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (strcmp (dtype, sizes[i].name) == 0)
      return sizes[i].size;
  return 0;
}

static gboolean
index_fail (GError **error, const char *what, const char *name,
            const char *problem)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
               "%s: tensor '%s' %s", what, name, problem);
  return FALSE;
}

/* Checks the entry's size against its shape and dtype, and its range
 * against the data block. */
static gboolean
check_item (RefsrSafetensorsItem *item, const gint64 offsets[2],
            gsize data_size, const char *what, GError **error)
{
  int esize = dtype_size (item->dtype);
  guint64 numel = 1;

  if (esize == 0)
    return index_fail (error, what, item->name, "has an unknown dtype");
  for (int d = 0; d < item->ndim; d++)
    {
      if (item->shape[d] != 0 && numel > G_MAXINT64 / 16 / (guint64) item->shape[d])
        return index_fail (error, what, item->name, "has an absurd shape");
      numel *= (guint64) item->shape[d];
    }
  item->numel = (gint64) numel;
  if (offsets[0] > offsets[1] || (guint64) offsets[1] > data_size)
    return index_fail (error, what, item->name,
                       "has data offsets past the end of the file");
  if ((guint64) (offsets[1] - offsets[0]) != numel * (guint64) esize)
    return index_fail (error, what, item->name,
                       "has a byte size that does not match its shape");
  item->nbytes = (gsize) (offsets[1] - offsets[0]);
  return TRUE;
}

typedef struct
{
  gint64 begin, end;
} ByteRange;

static int
compare_ranges (gconstpointer a, gconstpointer b)
{
  const ByteRange *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin ? 1
         : (x->end > y->end) - (x->end < y->end);
}

/* The tensors must tile [0, data_size) without overlap or gap. */
static gboolean
check_tiling (GArray *ranges, gsize data_size, const char *what,
              GError **error)
{
  gint64 pos = 0;

  g_array_sort (ranges, compare_ranges);
  for (guint i = 0; i < ranges->len; i++)
    {
      const ByteRange *r = &g_array_index (ranges, ByteRange, i);
      if (r->begin != pos)
        {
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                       "%s: tensor data %s at byte %" G_GINT64_FORMAT
                       " of the data block", what,
                       r->begin < pos ? "overlaps" : "leaves a gap", pos);
          return FALSE;
        }
      pos = r->end;
    }
  if ((guint64) pos != data_size)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "%s: %" G_GUINT64_FORMAT " bytes after the last tensor",
                   what, (guint64) data_size - (guint64) pos);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_header (JsonCursor *c, RefsrSafetensorsIndex *index,
              const guint8 *data_block, gsize data_size, GError **error)
{
  GArray *ranges = g_array_new (FALSE, FALSE, sizeof (ByteRange));
  gboolean ok = json_expect (c, '{');

  if (ok && !json_peek (c, '}'))
    while (ok)
      {
        char *name = json_string (c);
        gint64 offsets[2] = { 0, 0 };
        RefsrSafetensorsItem *item;

        if (name == NULL || !json_expect (c, ':'))
          {
            g_free (name);
            ok = FALSE;
            break;
          }
        if (strcmp (name, "__metadata__") == 0)
          {
            g_free (name);
            ok = parse_metadata (c, index->metadata);
          }
        else if ((item = parse_entry (c, name, offsets)) == NULL)
          ok = FALSE;
        else
          {
            g_ptr_array_add (index->items, item);
            ok = check_item (item, offsets, data_size, c->what, error);
            if (ok && g_hash_table_contains (index->by_name, item->name))
              ok = index_fail (error, c->what, item->name, "appears twice");
            g_hash_table_insert (index->by_name, item->name, item);
            item->bytes = data_block + offsets[0];
            g_array_append_val (ranges, ((ByteRange) { offsets[0], offsets[1] }));
          }
        if (!ok || !json_peek (c, ','))
          break;
        c->p++;
      }
  if (ok)
    ok = json_expect (c, '}');
  if (ok)
    {
      json_skip_space (c);
      if (c->p != c->end)
        ok = json_fail (c, "trailing characters after the header");
    }
  if (ok)
    ok = check_tiling (ranges, data_size, c->what, error);
  g_array_unref (ranges);
  return ok;
}

RefsrSafetensorsIndex *
refsr_safetensors_index (const guint8 *data, gsize size, const char *what,
                         GError **error)
{
  RefsrSafetensorsIndex *index;
  JsonCursor cursor;
  guint64 header_len = 0;

  if (size < 8)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "%s: file is too short to be safetensors (%" G_GSIZE_FORMAT
                   " bytes)", what, size);
      return NULL;
    }
  header_len = refsr_read_le64 (data);
  if (header_len > MAX_HEADER_BYTES || header_len > size - 8)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "%s: safetensors header length %" G_GUINT64_FORMAT
                   " is %s (%" G_GSIZE_FORMAT " bytes)", what, header_len,
                   header_len > size - 8 ? "larger than the file"
                                         : "beyond the 100 MB limit",
                   size);
      return NULL;
    }
  index = g_new0 (RefsrSafetensorsIndex, 1);
  index->items = g_ptr_array_new_with_free_func (item_free);
  index->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  index->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           g_free);
  cursor.start = cursor.p = (const char *) data + 8;
  cursor.end = cursor.p + header_len;
  cursor.what = what;
  cursor.error = error;
  if (!parse_header (&cursor, index, data + 8 + header_len,
                     size - 8 - (gsize) header_len, error))
    {
      refsr_safetensors_index_free (index);
      return NULL;
    }
  return index;
}

/* Decodes one entry's little-endian values into a new float array. */
static float *
decode_floats (const RefsrSafetensorsItem *item, const char *what,
               GError **error)
{
  float *out;
  const guint8 *b = item->bytes;

  if (strcmp (item->dtype, "F32") != 0 && strcmp (item->dtype, "F16") != 0
      && strcmp (item->dtype, "BF16") != 0)
    {
      index_fail (error, what, item->name,
                  "has a dtype other than F32, F16 or BF16");
      return NULL;
    }
  out = refsr_try_alloc ((gsize) item->numel, sizeof (float), error);
  if (out == NULL)
    return NULL;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (strcmp (item->dtype, "F32") == 0)
    return memcpy (out, b, item->nbytes);
#endif
  for (gint64 i = 0; i < item->numel; i++)
    out[i] = item->dtype[0] == 'F' && item->dtype[1] == '3'
                 ? refsr_bits_to_f32 (refsr_read_le32 (b + 4 * i))
             : item->dtype[0] == 'F'
                 ? refsr_f16_to_f32 (refsr_read_le16 (b + 2 * i))
                 : refsr_bf16_to_f32 (refsr_read_le16 (b + 2 * i));
  return out;
}

RefsrStateDict *
refsr_safetensors_read (const guint8 *data, gsize size, const char *what,
                        GError **error)
{
  RefsrSafetensorsIndex *index = refsr_safetensors_index (data, size, what,
                                                          error);
  RefsrStateDict *sd;

  if (index == NULL)
    return NULL;
  sd = refsr_state_dict_new ();
  for (guint i = 0; i < index->items->len; i++)
    {
      const RefsrSafetensorsItem *item = g_ptr_array_index (index->items, i);
      float *values = decode_floats (item, what, error);
      if (values == NULL
          || !refsr_state_dict_add (sd, item->name, item->ndim, item->shape,
                                    values, error))
        {
          refsr_state_dict_free (sd);
          sd = NULL;
          break;
        }
    }
  refsr_safetensors_index_free (index);
  return sd;
}

static void
append_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (; *s; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_printf (out, "\\%c", *s);
      else if ((guchar) *s < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *s);
      else
        g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
}

static gsize
entry_bytes (const RefsrSafetensorsEntry *e)
{
  gsize bytes = (gsize) dtype_size (e->dtype);
  for (int d = 0; d < e->ndim; d++)
    bytes *= (gsize) e->shape[d];
  return bytes;
}

static GString *
build_header (const RefsrSafetensorsEntry *entries, int n_entries,
              GHashTable *metadata, gsize *data_size)
{
  GString *h = g_string_new ("{");
  gsize offset = 0;

  if (metadata != NULL && g_hash_table_size (metadata) > 0)
    {
      GHashTableIter it;
      gpointer k, v;
      g_string_append (h, "\"__metadata__\":{");
      g_hash_table_iter_init (&it, metadata);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          append_json_string (h, k);
          g_string_append_c (h, ':');
          append_json_string (h, v);
          g_string_append_c (h, ',');
        }
      h->str[h->len - 1] = '}';
      g_string_append_c (h, ',');
    }
  for (int i = 0; i < n_entries; i++)
    {
      const RefsrSafetensorsEntry *e = &entries[i];
      gsize bytes = entry_bytes (e);
      append_json_string (h, e->name);
      g_string_append_printf (h, ":{\"dtype\":\"%s\",\"shape\":[", e->dtype);
      for (int d = 0; d < e->ndim; d++)
        g_string_append_printf (h, "%s%" G_GINT64_FORMAT, d ? "," : "",
                                e->shape[d]);
      g_string_append_printf (h, "],\"data_offsets\":[%" G_GSIZE_FORMAT
                              ",%" G_GSIZE_FORMAT "]},", offset,
                              offset + bytes);
      offset += bytes;
    }
  if (h->len > 1)
    h->str[h->len - 1] = '}';
  else
    g_string_append_c (h, '}');
  /* pad with spaces so the data block starts 8-byte aligned */
  while (h->len % 8 != 0)
    g_string_append_c (h, ' ');
  *data_size = offset;
  return h;
}

static gboolean
write_all (FILE *f, const void *data, gsize n)
{
  return n == 0 || fwrite (data, 1, n, f) == n;
}

/* Streams the file to a temporary name beside path and renames it into
 * place when complete: either the whole file appears or nothing does, and
 * no second copy of the (possibly gigabytes of) data is made. */
gboolean
refsr_safetensors_write (const char *path,
                         const RefsrSafetensorsEntry *entries, int n_entries,
                         GHashTable *metadata, GError **error)
{
  gsize data_size;
  GString *header = build_header (entries, n_entries, metadata, &data_size);
  char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_WRONLY, 0644);
  FILE *f = fd >= 0 ? fdopen (fd, "wb") : NULL;
  guint8 len_le[8];
  gboolean ok = f != NULL;
  int saved_errno;

  for (int i = 0; i < 8; i++)
    len_le[i] = (guint8) ((guint64) header->len >> (8 * i));
  /* the data is written in host order: refsr supports little-endian hosts
   * only, as does every TTSR checkpoint */
  ok = ok && write_all (f, len_le, 8)
       && write_all (f, header->str, header->len);
  for (int i = 0; ok && i < n_entries; i++)
    ok = write_all (f, entries[i].data, entry_bytes (&entries[i]));
  if (ok)
    ok = fflush (f) == 0 && fsync (fileno (f)) == 0;
  saved_errno = errno;
  if (f != NULL)
    ok = fclose (f) == 0 && ok;
  else if (fd >= 0)
    close (fd);
  if (ok && g_rename (tmp, path) != 0)
    ok = FALSE, saved_errno = errno;
  if (!ok)
    {
      if (fd >= 0)
        g_unlink (tmp);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "Could not write '%s': %s", path, g_strerror (saved_errno));
    }
  g_string_free (header, TRUE);
  g_free (tmp);
  return ok;
}

gboolean
refsr_state_dict_write_safetensors (const RefsrStateDict *sd,
                                    const char *path, GError **error)
{
  RefsrSafetensorsEntry *entries = g_new0 (RefsrSafetensorsEntry,
                                           MAX (sd->tensors->len, 1));
  gboolean ok;

  for (guint i = 0; i < sd->tensors->len; i++)
    {
      const RefsrStateTensor *t = g_ptr_array_index (sd->tensors, i);
      entries[i].name = t->name;
      entries[i].dtype = "F32";
      entries[i].ndim = t->ndim;
      memcpy (entries[i].shape, t->shape, sizeof t->shape);
      entries[i].data = t->data;
    }
  ok = refsr_safetensors_write (path, entries, (int) sd->tensors->len, NULL,
                                error);
  g_free (entries);
  return ok;
}
