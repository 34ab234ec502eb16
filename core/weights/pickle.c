/* pickle.c — a restricted, non-executing unpickler for PyTorch state dicts.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Only the opcodes a saved state dict uses are understood.  Every value is
 * allocated into the RefsrPickle and freed with it, so shared (memo) and
 * even cyclic references need no reference counting.  Nothing here
 * recurses, and what a file can make us hold is bounded:
 *
 * - every value, container slot, stack entry, mark, memo slot and global
 *   name is charged to a budget of PICKLE_MAX_BYTES, so a hostile pickle
 *   is rejected with an error after at most that much, whatever the file
 *   size (each opcode makes at most one value, so what is charged also
 *   stays within 64 times the bytes read);
 * - a memo index may not exceed the number of values made so far
 *   (picklers number them in order), so one PUT cannot reserve a huge
 *   memo;
 * - the allocations that grow with the input use g_try_* and fail with
 *   REFSR_ERROR_NO_MEMORY.
 *
 * A state dict needs little: TTSR's (300 tensors) about 0.7 MiB, the
 * largest one model.c accepts (1024 ResBlocks per group, 29,000 tensors)
 * about 60 MiB. */
#include "pickle.h"

#include <string.h>

#include "bytes.h"
#include "refsr.h"

#define PICKLE_MAX_STACK    (1u << 20)
#define PICKLE_MAX_BYTES    ((gsize) 128 << 20)
#define PICKLE_MAX_GLOBAL   256
#define PICKLE_CHUNK        1024 /* values per allocation */

struct RefsrPickle
{
  GPtrArray *chunks;  /* arrays of PICKLE_CHUNK values, owned */
  gsize n_values;     /* values used in all chunks */
  GPtrArray *strings; /* copies of GLOBAL names, owned */
  RefsrPickleValue *root;
};

typedef struct
{
  RefsrPickle *pickle;
  const guint8 *data;
  gsize size, pos;
  gboolean cut;     /* size was capped below the data's length */
  gsize base;
  const char *what;
  gsize op_pos;
  guint8 op;
  GPtrArray *stack; /* RefsrPickleValue* (borrowed from pickle->chunks) */
  GArray *marks;    /* guint: stack length at each MARK */
  GPtrArray *memo;  /* RefsrPickleValue* or NULL for never-stored slots */
  gsize charged;    /* bytes charged to the budget */
} Unpickler;

static const char *
opcode_name (guint8 op)
{
  switch (op)
    {
    case 0x80: return "PROTO";
    case 0x95: return "FRAME";
    case '.': return "STOP";
    case '(': return "MARK";
    case '}': return "EMPTY_DICT";
    case ']': return "EMPTY_LIST";
    case ')': return "EMPTY_TUPLE";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 'l': return "LIST";
    case 'd': return "DICT";
    case 'X': return "BINUNICODE";
    case 0x8c: return "SHORT_BINUNICODE";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 'c': return "GLOBAL";
    case 0x93: return "STACK_GLOBAL";
    case 'K': return "BININT1";
    case 'M': return "BININT2";
    case 'J': return "BININT";
    case 0x8a: return "LONG1";
    case 'N': return "NONE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 'G': return "BINFLOAT";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 's': return "SETITEM";
    case 'u': return "SETITEMS";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 0x94: return "MEMOIZE";
    case 'h': return "BINGET";
    case 'j': return "LONG_BINGET";
    default: return NULL;
    }
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (Unpickler *u, GError **error, const char *format, ...)
{
  va_list args;
  char *message;
  const char *name = opcode_name (u->op);

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (name != NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                 "weights file '%s': pickle opcode %s at byte %" G_GSIZE_FORMAT
                 ": %s", u->what, name, u->base + u->op_pos, message);
  else
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                 "weights file '%s': pickle opcode 0x%02x at byte %"
                 G_GSIZE_FORMAT ": %s", u->what, u->op, u->base + u->op_pos,
                 message);
  g_free (message);
  return FALSE;
}

static gboolean
fail_no_memory (Unpickler *u, GError **error)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
               "weights file '%s': out of memory unpickling at byte %"
               G_GSIZE_FORMAT, u->what, u->base + u->op_pos);
  return FALSE;
}

static gboolean
charge (Unpickler *u, gsize bytes, GError **error)
{
  if (bytes > PICKLE_MAX_BYTES - u->charged)
    return fail (u, error, "unpickling would need more than %" G_GSIZE_FORMAT
                 " MiB, far more than a state dict of tensors does",
                 PICKLE_MAX_BYTES >> 20);
  u->charged += bytes;
  return TRUE;
}

/* The pickle runs past u->size: the end of the data, or the cap the
 * caller set for a pickle that must be short. */
static gboolean
fail_past_end (Unpickler *u, GError **error)
{
  if (u->cut)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "weights file '%s': the pickle at byte %" G_GSIZE_FORMAT
                   " does not end within %" G_GSIZE_FORMAT " bytes, the most "
                   "it may have there: not a PyTorch file", u->what, u->base,
                   u->size);
      return FALSE;
    }
  return fail (u, error, "the pickle ends without STOP (file truncated?)");
}

static gboolean
need (Unpickler *u, gsize n, GError **error)
{
  if (n > u->size - u->pos)
    {
      if (u->cut)
        return fail_past_end (u, error);
      return fail (u, error, "truncated: needs %" G_GSIZE_FORMAT
                   " more bytes, the data has %" G_GSIZE_FORMAT, n,
                   u->size - u->pos);
    }
  return TRUE;
}

static guint64
read_le (Unpickler *u, int n)
{
  const guint8 *p = u->data + u->pos;

  u->pos += n;
  return n == 1 ? p[0] : n == 2 ? refsr_read_le16 (p) : refsr_read_le32 (p);
}

static RefsrPickleValue *
new_value (Unpickler *u, RefsrPickleKind kind, GError **error)
{
  RefsrPickle *pickle = u->pickle;
  gsize slot = pickle->n_values % PICKLE_CHUNK;
  RefsrPickleValue *v;

  if (!charge (u, sizeof *v, error))
    return NULL;
  if (slot == 0)
    {
      RefsrPickleValue *chunk = g_try_new0 (RefsrPickleValue, PICKLE_CHUNK);
      if (chunk == NULL)
        {
          fail_no_memory (u, error);
          return NULL;
        }
      g_ptr_array_add (pickle->chunks, chunk);
    }
  v = (RefsrPickleValue *) g_ptr_array_index (pickle->chunks,
                                              pickle->chunks->len - 1) + slot;
  pickle->n_values++;
  v->kind = kind;
  v->offset = u->base + u->op_pos;
  return v;
}

/* Makes room for n more items in container. */
static gboolean
reserve_items (Unpickler *u, RefsrPickleValue *container, gsize n,
               GError **error)
{
  gsize want = container->n_items + n, alloc;
  RefsrPickleValue **items;

  if (want <= container->alloc_items)
    return TRUE;
  /* doubling keeps one-at-a-time APPENDs linear; the budget keeps
   * alloc far from overflowing */
  alloc = MAX (want, MAX (4, container->alloc_items * 2));
  if (!charge (u, (alloc - container->alloc_items) * sizeof *items, error))
    return FALSE;
  items = g_try_renew (RefsrPickleValue *, container->items, alloc);
  if (items == NULL)
    return fail_no_memory (u, error);
  container->items = items;
  container->alloc_items = alloc;
  return TRUE;
}

static gboolean
push (Unpickler *u, RefsrPickleValue *v, GError **error)
{
  if (v == NULL)
    return FALSE; /* new_value failed and said why */
  if (u->stack->len >= PICKLE_MAX_STACK)
    return fail (u, error, "stack deeper than %u entries", PICKLE_MAX_STACK);
  if (!charge (u, sizeof v, error))
    return FALSE;
  g_ptr_array_add (u->stack, v);
  return TRUE;
}

/* Stack index of the innermost mark (0 if there is none). */
static guint
floor_mark (Unpickler *u)
{
  return u->marks->len ? g_array_index (u->marks, guint, u->marks->len - 1)
                       : 0;
}

/* Number of values above the innermost mark. */
static guint
above_mark (Unpickler *u)
{
  return u->stack->len - floor_mark (u);
}

static RefsrPickleValue *
pop (Unpickler *u, GError **error)
{
  if (above_mark (u) == 0)
    {
      fail (u, error, "stack underflow");
      return NULL;
    }
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

static RefsrPickleValue *
top (Unpickler *u, GError **error)
{
  if (above_mark (u) == 0)
    {
      fail (u, error, "stack underflow");
      return NULL;
    }
  return g_ptr_array_index (u->stack, u->stack->len - 1);
}

/* Removes the innermost mark; *first is the stack index just above it. */
static gboolean
pop_mark (Unpickler *u, guint *first, GError **error)
{
  if (u->marks->len == 0)
    return fail (u, error, "no MARK to pop to");
  *first = g_array_index (u->marks, guint, u->marks->len - 1);
  g_array_set_size (u->marks, u->marks->len - 1);
  return TRUE;
}

/* Moves stack[first..] into container (in order) and drops them. */
static gboolean
move_items (Unpickler *u, guint first, RefsrPickleValue *container,
            GError **error)
{
  if (!reserve_items (u, container, u->stack->len - first, error))
    return FALSE;
  for (guint i = first; i < u->stack->len; i++)
    container->items[container->n_items++] = g_ptr_array_index (u->stack, i);
  g_ptr_array_set_size (u->stack, first);
  return TRUE;
}

static gboolean
op_collect (Unpickler *u, RefsrPickleKind kind, GError **error)
{
  guint first;
  RefsrPickleValue *v;

  if (!pop_mark (u, &first, error))
    return FALSE;
  if (kind == REFSR_PICKLE_DICT && (u->stack->len - first) % 2 != 0)
    return fail (u, error, "odd number of keys and values");
  if ((v = new_value (u, kind, error)) == NULL
      || !move_items (u, first, v, error))
    return FALSE;
  return push (u, v, error);
}

static gboolean
op_small_tuple (Unpickler *u, guint n, GError **error)
{
  RefsrPickleValue *v;

  if (above_mark (u) < n)
    return fail (u, error, "stack underflow");
  if ((v = new_value (u, REFSR_PICKLE_TUPLE, error)) == NULL
      || !move_items (u, u->stack->len - n, v, error))
    return FALSE;
  return push (u, v, error);
}

static gboolean
op_text (Unpickler *u, int len_bytes, RefsrPickleKind kind, GError **error)
{
  guint64 len;
  RefsrPickleValue *v;

  if (!need (u, len_bytes, error))
    return FALSE;
  len = read_le (u, len_bytes);
  if (!need (u, len, error))
    return FALSE;
  if (kind == REFSR_PICKLE_STRING
      && !g_utf8_validate ((const char *) u->data + u->pos, len, NULL))
    return fail (u, error, "string is not valid UTF-8 or contains NUL");
  if ((v = new_value (u, kind, error)) == NULL)
    return FALSE;
  v->u.str.data = (const char *) u->data + u->pos;
  v->u.str.len = len;
  u->pos += len;
  return push (u, v, error);
}

static gboolean
op_int (Unpickler *u, int n_bytes, gboolean is_signed, GError **error)
{
  guint64 raw;
  RefsrPickleValue *v;

  if (!need (u, n_bytes, error))
    return FALSE;
  raw = read_le (u, n_bytes);
  if ((v = new_value (u, REFSR_PICKLE_INT, error)) == NULL)
    return FALSE;
  v->u.integer = is_signed ? (gint64) (gint32) (guint32) raw : (gint64) raw;
  return push (u, v, error);
}

/* LONG1: little-endian two's complement of up to 255 bytes. */
static gboolean
op_long1 (Unpickler *u, GError **error)
{
  guint n;
  const guint8 *bytes;
  RefsrPickleValue *v;
  gboolean fits = TRUE;

  if (!need (u, 1, error))
    return FALSE;
  n = u->data[u->pos++];
  if (!need (u, n, error))
    return FALSE;
  bytes = u->data + u->pos;
  u->pos += n;
  /* Wider than 8 bytes still fits when the extra bytes only extend the sign. */
  for (guint i = 8; i < n; i++)
    if (bytes[i] != ((bytes[7] & 0x80) ? 0xff : 0x00))
      fits = FALSE;
  if (!fits)
    {
      if ((v = new_value (u, REFSR_PICKLE_BIGINT, error)) == NULL)
        return FALSE;
      v->u.str.data = (const char *) bytes;
      v->u.str.len = n;
      return push (u, v, error);
    }
  guint64 raw = 0;
  guint used = MIN (n, 8);
  for (guint i = 0; i < used; i++)
    raw |= (guint64) bytes[i] << (8 * i);
  if (used > 0 && used < 8 && (bytes[used - 1] & 0x80))
    raw |= G_MAXUINT64 << (8 * used);
  if ((v = new_value (u, REFSR_PICKLE_INT, error)) == NULL)
    return FALSE;
  v->u.integer = (gint64) raw;
  return push (u, v, error);
}

static gboolean
op_binfloat (Unpickler *u, GError **error)
{
  guint64 bits = 0;
  double d;
  RefsrPickleValue *v;

  if (!need (u, 8, error))
    return FALSE;
  for (int i = 0; i < 8; i++) /* big-endian */
    bits = (bits << 8) | u->data[u->pos++];
  memcpy (&d, &bits, sizeof d);
  if ((v = new_value (u, REFSR_PICKLE_FLOAT, error)) == NULL)
    return FALSE;
  v->u.real = d;
  return push (u, v, error);
}

static gboolean
global_allowed (const char *module, const char *name)
{
  if (strcmp (module, "torch._utils") == 0)
    return strcmp (name, "_rebuild_tensor_v2") == 0
           || strcmp (name, "_rebuild_tensor") == 0;
  if (strcmp (module, "collections") == 0)
    return strcmp (name, "OrderedDict") == 0;
  if (strcmp (module, "torch") == 0 || strcmp (module, "torch.cuda") == 0)
    {
      gsize len = strlen (name);
      return len > 7 && strcmp (name + len - 7, "Storage") == 0;
    }
  return FALSE;
}

static gboolean
make_global (Unpickler *u, const char *module, gsize module_len,
             const char *name, gsize name_len, GError **error)
{
  char *m, *n;
  RefsrPickleValue *v;

  for (gsize i = 0; i < module_len + name_len; i++)
    {
      guchar c = i < module_len ? (guchar) module[i]
                                : (guchar) name[i - module_len];
      if (c < 0x20 || c > 0x7e)
        return fail (u, error, "global name has non-printable characters");
    }
  if (!charge (u, module_len + name_len + 2, error))
    return FALSE;
  m = g_strndup (module, module_len);
  n = g_strndup (name, name_len);
  g_ptr_array_add (u->pickle->strings, m);
  g_ptr_array_add (u->pickle->strings, n);
  if (!global_allowed (m, n))
    return fail (u, error, "refusing global '%s.%s': a weights file may only "
                 "name torch tensor storages and rebuild functions", m, n);
  if ((v = new_value (u, REFSR_PICKLE_GLOBAL, error)) == NULL)
    return FALSE;
  v->u.global.module = m;
  v->u.global.name = n;
  return push (u, v, error);
}

/* GLOBAL: "module\nname\n", each line short and printable. */
static gboolean
op_global (Unpickler *u, GError **error)
{
  const char *start[2];
  gsize len[2];

  for (int part = 0; part < 2; part++)
    {
      gsize limit = MIN (u->size - u->pos, PICKLE_MAX_GLOBAL);
      const guint8 *nl = memchr (u->data + u->pos, '\n', limit);
      if (nl == NULL)
        return fail (u, error, "global name not terminated within %u bytes",
                     PICKLE_MAX_GLOBAL);
      start[part] = (const char *) u->data + u->pos;
      len[part] = nl - (u->data + u->pos);
      u->pos += len[part] + 1;
    }
  return make_global (u, start[0], len[0], start[1], len[1], error);
}

static gboolean
op_stack_global (Unpickler *u, GError **error)
{
  RefsrPickleValue *name = pop (u, error), *module;

  if (name == NULL || (module = pop (u, error)) == NULL)
    return FALSE;
  if (name->kind != REFSR_PICKLE_STRING || module->kind != REFSR_PICKLE_STRING
      || name->u.str.len > PICKLE_MAX_GLOBAL
      || module->u.str.len > PICKLE_MAX_GLOBAL)
    return fail (u, error, "module and name must be short strings");
  return make_global (u, module->u.str.data, module->u.str.len,
                      name->u.str.data, name->u.str.len, error);
}

static gboolean
op_reduce (Unpickler *u, GError **error)
{
  RefsrPickleValue *args = pop (u, error), *callee, *v;

  if (args == NULL || (callee = pop (u, error)) == NULL)
    return FALSE;
  if (callee->kind != REFSR_PICKLE_GLOBAL)
    return fail (u, error, "callable is a %s, not a global",
                 refsr_pickle_kind_name (callee->kind));
  if (args->kind != REFSR_PICKLE_TUPLE)
    return fail (u, error, "arguments are a %s, not a tuple",
                 refsr_pickle_kind_name (args->kind));
  if (refsr_pickle_is_global (callee, "collections", "OrderedDict"))
    {
      if (args->n_items != 0)
        return fail (u, error, "OrderedDict called with arguments");
      return push (u, new_value (u, REFSR_PICKLE_DICT, error), error);
    }
  if (strcmp (callee->u.global.module, "torch._utils") != 0)
    return fail (u, error, "refusing to call '%s.%s'",
                 callee->u.global.module, callee->u.global.name);
  if ((v = new_value (u, REFSR_PICKLE_REBUILD, error)) == NULL)
    return FALSE;
  v->u.call.callee = callee;
  v->u.call.args = args;
  return push (u, v, error);
}

static gboolean
op_persid (Unpickler *u, GError **error)
{
  RefsrPickleValue *pid = pop (u, error), *v;

  if (pid == NULL || (v = new_value (u, REFSR_PICKLE_PERSID, error)) == NULL
      || !reserve_items (u, v, 1, error))
    return FALSE;
  v->items[v->n_items++] = pid;
  return push (u, v, error);
}

/* SETITEM(S) and APPEND(S): moves the values above the mark (or the last
 * one or two) into the dict or list just below them. */
static gboolean
op_fill (Unpickler *u, RefsrPickleKind kind, gboolean many, GError **error)
{
  guint first;
  RefsrPickleValue *target;

  if (many)
    {
      if (!pop_mark (u, &first, error))
        return FALSE;
    }
  else
    {
      guint n = kind == REFSR_PICKLE_DICT ? 2 : 1;
      if (above_mark (u) < n)
        return fail (u, error, "stack underflow");
      first = u->stack->len - n;
    }
  if (kind == REFSR_PICKLE_DICT && (u->stack->len - first) % 2 != 0)
    return fail (u, error, "odd number of keys and values");
  if (first <= floor_mark (u))
    return fail (u, error, "stack underflow");
  target = g_ptr_array_index (u->stack, first - 1);
  if (target->kind != kind)
    return fail (u, error, "target is a %s, not a %s",
                 refsr_pickle_kind_name (target->kind),
                 refsr_pickle_kind_name (kind));
  return move_items (u, first, target, error);
}

static gboolean
op_put (Unpickler *u, int index_bytes, GError **error)
{
  guint64 index;
  RefsrPickleValue *v;

  if (index_bytes == 0)
    index = u->memo->len;
  else if (!need (u, index_bytes, error))
    return FALSE;
  else
    index = read_le (u, index_bytes);
  if ((v = top (u, error)) == NULL)
    return FALSE;
  if (index > u->pickle->n_values)
    return fail (u, error, "memo index %" G_GUINT64_FORMAT " is out of range "
                 "(only %" G_GSIZE_FORMAT " values were made)", index,
                 u->pickle->n_values);
  if (index >= u->memo->len)
    {
      if (!charge (u, (index + 1 - u->memo->len) * sizeof v, error))
        return FALSE;
      g_ptr_array_set_size (u->memo, index + 1);
    }
  g_ptr_array_index (u->memo, index) = v;
  return TRUE;
}

static gboolean
op_get (Unpickler *u, int index_bytes, GError **error)
{
  guint64 index;
  RefsrPickleValue *v;

  if (!need (u, index_bytes, error))
    return FALSE;
  index = read_le (u, index_bytes);
  if (index >= u->memo->len
      || (v = g_ptr_array_index (u->memo, index)) == NULL)
    return fail (u, error, "memo index %" G_GUINT64_FORMAT
                 " was never stored", index);
  return push (u, v, error);
}

static gboolean
op_mark (Unpickler *u, GError **error)
{
  guint len = u->stack->len;

  if (u->marks->len >= PICKLE_MAX_STACK)
    return fail (u, error, "more than %u nested marks", PICKLE_MAX_STACK);
  if (!charge (u, sizeof len, error))
    return FALSE;
  g_array_append_val (u->marks, len);
  return TRUE;
}

static gboolean
op_frame_or_proto (Unpickler *u, GError **error)
{
  if (u->op == 0x95)
    {
      if (!need (u, 8, error))
        return FALSE;
      u->pos += 8; /* framing is a read-ahead hint only */
      return TRUE;
    }
  if (!need (u, 1, error))
    return FALSE;
  if (u->data[u->pos] > 5)
    return fail (u, error, "unknown pickle protocol %u", u->data[u->pos]);
  u->pos++;
  return TRUE;
}

static gboolean
op_constant (Unpickler *u, GError **error)
{
  RefsrPickleValue *v;

  switch (u->op)
    {
    case 'N':
      v = new_value (u, REFSR_PICKLE_NONE, error);
      break;
    case 0x88:
    case 0x89:
      if ((v = new_value (u, REFSR_PICKLE_BOOL, error)) != NULL)
        v->u.boolean = u->op == 0x88;
      break;
    case '}':
      v = new_value (u, REFSR_PICKLE_DICT, error);
      break;
    case ']':
      v = new_value (u, REFSR_PICKLE_LIST, error);
      break;
    default:
      v = new_value (u, REFSR_PICKLE_TUPLE, error);
      break;
    }
  return push (u, v, error);
}

static gboolean
dispatch (Unpickler *u, GError **error)
{
  switch (u->op)
    {
    case 0x80: case 0x95: return op_frame_or_proto (u, error);
    case '(': return op_mark (u, error);
    case 'N': case 0x88: case 0x89: case '}': case ']': case ')':
      return op_constant (u, error);
    case 't': return op_collect (u, REFSR_PICKLE_TUPLE, error);
    case 'l': return op_collect (u, REFSR_PICKLE_LIST, error);
    case 'd': return op_collect (u, REFSR_PICKLE_DICT, error);
    case 0x85: return op_small_tuple (u, 1, error);
    case 0x86: return op_small_tuple (u, 2, error);
    case 0x87: return op_small_tuple (u, 3, error);
    case 'X': return op_text (u, 4, REFSR_PICKLE_STRING, error);
    case 0x8c: return op_text (u, 1, REFSR_PICKLE_STRING, error);
    case 'B': return op_text (u, 4, REFSR_PICKLE_BYTES, error);
    case 'C': return op_text (u, 1, REFSR_PICKLE_BYTES, error);
    case 'c': return op_global (u, error);
    case 0x93: return op_stack_global (u, error);
    case 'K': return op_int (u, 1, FALSE, error);
    case 'M': return op_int (u, 2, FALSE, error);
    case 'J': return op_int (u, 4, TRUE, error);
    case 0x8a: return op_long1 (u, error);
    case 'G': return op_binfloat (u, error);
    case 'Q': return op_persid (u, error);
    case 'R': return op_reduce (u, error);
    case 's': return op_fill (u, REFSR_PICKLE_DICT, FALSE, error);
    case 'u': return op_fill (u, REFSR_PICKLE_DICT, TRUE, error);
    case 'a': return op_fill (u, REFSR_PICKLE_LIST, FALSE, error);
    case 'e': return op_fill (u, REFSR_PICKLE_LIST, TRUE, error);
    case 'q': return op_put (u, 1, error);
    case 'r': return op_put (u, 4, error);
    case 0x94: return op_put (u, 0, error);
    case 'h': return op_get (u, 1, error);
    case 'j': return op_get (u, 4, error);
    default:
      return fail (u, error, "unsupported opcode (a state dict of tensors "
                   "does not use it)");
    }
}

void
refsr_pickle_free (RefsrPickle *pickle)
{
  if (pickle == NULL)
    return;
  for (gsize i = 0; i < pickle->n_values; i++)
    {
      RefsrPickleValue *chunk = g_ptr_array_index (pickle->chunks,
                                                   i / PICKLE_CHUNK);
      g_free (chunk[i % PICKLE_CHUNK].items);
    }
  g_ptr_array_unref (pickle->chunks);
  g_ptr_array_unref (pickle->strings);
  g_free (pickle);
}

static gboolean
run (Unpickler *u, GError **error)
{
  while (u->pos < u->size)
    {
      u->op_pos = u->pos;
      u->op = u->data[u->pos++];
      if (u->op == '.')
        {
          u->pickle->root = top (u, error);
          return u->pickle->root != NULL;
        }
      if (!dispatch (u, error))
        return FALSE;
    }
  u->op_pos = u->pos;
  u->op = '.';
  return fail_past_end (u, error);
}

RefsrPickle *
refsr_pickle_load (const guint8 *data, gsize size, gsize max_size,
                   gsize base_offset, const char *what, gsize *consumed,
                   GError **error)
{
  RefsrPickle *pickle = g_new0 (RefsrPickle, 1);
  Unpickler u = { 0 };
  gboolean ok;

  pickle->chunks = g_ptr_array_new_with_free_func (g_free);
  pickle->strings = g_ptr_array_new_with_free_func (g_free);
  u.pickle = pickle;
  u.data = data;
  u.size = MIN (size, max_size);
  u.cut = size > max_size;
  u.base = base_offset;
  u.what = what;
  u.stack = g_ptr_array_new ();
  u.marks = g_array_new (FALSE, FALSE, sizeof (guint));
  u.memo = g_ptr_array_new ();
  ok = run (&u, error);
  g_ptr_array_unref (u.stack);
  g_array_unref (u.marks);
  g_ptr_array_unref (u.memo);
  if (!ok)
    {
      refsr_pickle_free (pickle);
      return NULL;
    }
  if (consumed != NULL)
    *consumed = u.pos;
  return pickle;
}

const RefsrPickleValue *
refsr_pickle_root (const RefsrPickle *pickle)
{
  return pickle->root;
}

const char *
refsr_pickle_kind_name (RefsrPickleKind kind)
{
  static const char *const names[] = {
    "None", "bool", "int", "big int", "float", "string", "bytes", "tuple",
    "list", "dict", "global", "tensor", "persistent id"
  };

  return (guint) kind < G_N_ELEMENTS (names) ? names[kind] : "?";
}

gboolean
refsr_pickle_is_global (const RefsrPickleValue *value, const char *module,
                        const char *name)
{
  return value != NULL && value->kind == REFSR_PICKLE_GLOBAL
         && strcmp (value->u.global.module, module) == 0
         && strcmp (value->u.global.name, name) == 0;
}

gboolean
refsr_pickle_is_string (const RefsrPickleValue *value, const char *text)
{
  gsize len = strlen (text);

  return value != NULL && value->kind == REFSR_PICKLE_STRING
         && value->u.str.len == len
         && memcmp (value->u.str.data, text, len) == 0;
}

const RefsrPickleValue *
refsr_pickle_dict_get (const RefsrPickleValue *dict, const char *key)
{
  if (dict == NULL || dict->kind != REFSR_PICKLE_DICT)
    return NULL;
  for (gsize i = 0; i + 1 < dict->n_items; i += 2)
    if (refsr_pickle_is_string (dict->items[i], key))
      return dict->items[i + 1];
  return NULL;
}
