/* pickle.h — a restricted unpickler for PyTorch state dicts.  Internal.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * It executes nothing: GLOBAL only names one of a few known torch/collections
 * symbols, REDUCE is understood only for the tensor rebuild functions and an
 * empty collections.OrderedDict, and BINPERSID only records the persistent id
 * for the caller to resolve.  Anything else is an error that names the
 * opcode and its byte offset in the file. */
#ifndef REFSR_PICKLE_H
#define REFSR_PICKLE_H

#include <glib.h>

typedef enum
{
  REFSR_PICKLE_NONE,
  REFSR_PICKLE_BOOL,
  REFSR_PICKLE_INT,    /* fits in 64 bits */
  REFSR_PICKLE_BIGINT, /* LONG1 wider than 64 bits: raw little-endian bytes */
  REFSR_PICKLE_FLOAT,
  REFSR_PICKLE_STRING, /* valid UTF-8 without NUL, points into the input */
  REFSR_PICKLE_BYTES,  /* points into the input */
  REFSR_PICKLE_TUPLE,
  REFSR_PICKLE_LIST,
  REFSR_PICKLE_DICT,   /* items[2i] = key, items[2i+1] = value, in order */
  REFSR_PICKLE_GLOBAL,
  REFSR_PICKLE_REBUILD,/* call of a tensor rebuild global: callee + args */
  REFSR_PICKLE_PERSID  /* persistent id (items[0]), left to the caller */
} RefsrPickleKind;

typedef struct RefsrPickleValue RefsrPickleValue;

struct RefsrPickleValue
{
  RefsrPickleKind kind;
  gsize offset;             /* file offset of the opcode that made it */
  union
  {
    gboolean boolean;
    gint64 integer;
    double real;
    struct { const char *data; gsize len; } str; /* STRING, BYTES, BIGINT */
    struct { const char *module, *name; } global;
    struct { RefsrPickleValue *callee, *args; } call;
  } u;
  /* TUPLE, LIST, DICT, PERSID: */
  RefsrPickleValue **items;
  gsize n_items;
  gsize alloc_items;
};

/* Every value of one unpickling; all are freed together with it. */
typedef struct RefsrPickle RefsrPickle;

/* Unpickles the pickle at data[0..size).  A pickle that does not end
 * within max_size bytes is an error (G_MAXSIZE: no limit), so a caller
 * expecting a short pickle need not read a long one.  base_offset is the
 * position of data in the file and what names the file, both for
 * messages.  On success *consumed is the number of bytes up to and
 * including STOP.  Memory is bounded (see pickle.c); errors are
 * REFSR_ERROR_WEIGHTS or REFSR_ERROR_NO_MEMORY. */
RefsrPickle *refsr_pickle_load (const guint8 *data, gsize size,
                                gsize max_size, gsize base_offset,
                                const char *what, gsize *consumed,
                                GError **error);
const RefsrPickleValue *refsr_pickle_root (const RefsrPickle *pickle);
void refsr_pickle_free (RefsrPickle *pickle);

const char *refsr_pickle_kind_name (RefsrPickleKind kind);
gboolean refsr_pickle_is_global (const RefsrPickleValue *value,
                                 const char *module, const char *name);
gboolean refsr_pickle_is_string (const RefsrPickleValue *value,
                                 const char *text);
/* The value of key `key` (a string) in a DICT, or NULL. */
const RefsrPickleValue *refsr_pickle_dict_get (const RefsrPickleValue *dict,
                                               const char *key);

#endif
