/* model.c — binds a state dict to the TTSR architecture and implements the
 * model part of the public API (load, free, configuration).
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One table of convolutions, built in the checkpoint's key order (MainNet
 * in module registration order, then the LTE slices, then sub_mean), is
 * both the list of expected keys and the binding recipe. */
#include "model.h"

#include <stdarg.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define MODEL_MAX_FEATS  4096
#define MODEL_MAX_BLOCKS 1024

typedef struct
{
  char *prefix;      /* key without ".weight" / ".bias" */
  int cout, cin, k;
  RefsrConv *target; /* NULL when only the key list is wanted */
} ConvSpec;

static void G_GNUC_PRINTF (6, 7)
add_conv (GArray *specs, RefsrConv *target, int cout, int cin, int k,
          const char *format, ...)
{
  ConvSpec spec = { NULL, cout, cin, k, target };
  va_list args;

  va_start (args, format);
  spec.prefix = g_strdup_vprintf (format, args);
  va_end (args);
  g_array_append_val (specs, spec);
}

static void
add_resblocks (GArray *specs, RefsrResBlock *rbs, int n, int f,
               const char *list)
{
  for (int i = 0; i < n; i++)
    {
      add_conv (specs, rbs ? &rbs[i].conv1 : NULL, f, f, 3,
                "MainNet.%s.%d.conv1", list, i);
      add_conv (specs, rbs ? &rbs[i].conv2 : NULL, f, f, 3,
                "MainNet.%s.%d.conv2", list, i);
    }
}

/* The address of a model field, or NULL when listing keys only. */
#define AT(field) (m != NULL ? &m->field : NULL)
#define RBS(field) (m != NULL ? m->field : NULL)

static void
list_stage1_2 (GArray *s, RefsrModel *m, const RefsrConfig *c)
{
  int f = c->n_feats;

  add_conv (s, AT (main.sfe.conv_head), f, 3, 3, "MainNet.SFE.conv_head");
  add_resblocks (s, RBS (main.sfe.rbs), c->n_res_blocks[0], f, "SFE.RBs");
  add_conv (s, AT (main.sfe.conv_tail), f, f, 3, "MainNet.SFE.conv_tail");
  add_conv (s, AT (main.conv11_head), f, f + 256, 3, "MainNet.conv11_head");
  add_resblocks (s, RBS (main.rb11), c->n_res_blocks[1], f, "RB11");
  add_conv (s, AT (main.conv11_tail), f, f, 3, "MainNet.conv11_tail");
  add_conv (s, AT (main.conv12), 4 * f, f, 3, "MainNet.conv12");
  add_conv (s, AT (main.conv22_head), f, f + 128, 3, "MainNet.conv22_head");
  add_conv (s, AT (main.ex12.conv12), f, f, 1, "MainNet.ex12.conv12");
  add_conv (s, AT (main.ex12.conv21), f, f, 3, "MainNet.ex12.conv21");
  add_conv (s, AT (main.ex12.conv_merge1), f, 2 * f, 3,
            "MainNet.ex12.conv_merge1");
  add_conv (s, AT (main.ex12.conv_merge2), f, 2 * f, 3,
            "MainNet.ex12.conv_merge2");
  add_resblocks (s, RBS (main.rb21), c->n_res_blocks[2], f, "RB21");
  add_resblocks (s, RBS (main.rb22), c->n_res_blocks[2], f, "RB22");
  add_conv (s, AT (main.conv21_tail), f, f, 3, "MainNet.conv21_tail");
  add_conv (s, AT (main.conv22_tail), f, f, 3, "MainNet.conv22_tail");
}

static void
list_stage3 (GArray *s, RefsrModel *m, const RefsrConfig *c)
{
  static const char *const ex123_1x1[] = { "conv12", "conv13" };
  int f = c->n_feats;
  RefsrCsfi3 *x = AT (main.ex123);

  add_conv (s, AT (main.conv23), 4 * f, f, 3, "MainNet.conv23");
  add_conv (s, AT (main.conv33_head), f, f + 64, 3, "MainNet.conv33_head");
  for (int i = 0; i < 2; i++)
    add_conv (s, x ? (i ? &x->conv13 : &x->conv12) : NULL, f, f, 1,
              "MainNet.ex123.%s", ex123_1x1[i]);
  add_conv (s, x ? &x->conv21 : NULL, f, f, 3, "MainNet.ex123.conv21");
  add_conv (s, x ? &x->conv23 : NULL, f, f, 1, "MainNet.ex123.conv23");
  add_conv (s, x ? &x->conv31_1 : NULL, f, f, 3, "MainNet.ex123.conv31_1");
  add_conv (s, x ? &x->conv31_2 : NULL, f, f, 3, "MainNet.ex123.conv31_2");
  add_conv (s, x ? &x->conv32 : NULL, f, f, 3, "MainNet.ex123.conv32");
  add_conv (s, x ? &x->conv_merge1 : NULL, f, 3 * f, 3,
            "MainNet.ex123.conv_merge1");
  add_conv (s, x ? &x->conv_merge2 : NULL, f, 3 * f, 3,
            "MainNet.ex123.conv_merge2");
  add_conv (s, x ? &x->conv_merge3 : NULL, f, 3 * f, 3,
            "MainNet.ex123.conv_merge3");
  add_resblocks (s, RBS (main.rb31), c->n_res_blocks[3], f, "RB31");
  add_resblocks (s, RBS (main.rb32), c->n_res_blocks[3], f, "RB32");
  add_resblocks (s, RBS (main.rb33), c->n_res_blocks[3], f, "RB33");
  add_conv (s, AT (main.conv31_tail), f, f, 3, "MainNet.conv31_tail");
  add_conv (s, AT (main.conv32_tail), f, f, 3, "MainNet.conv32_tail");
  add_conv (s, AT (main.conv33_tail), f, f, 3, "MainNet.conv33_tail");
}

static void
list_tail_lte (GArray *s, RefsrModel *m, const RefsrConfig *c)
{
  int f = c->n_feats;

  add_conv (s, AT (main.merge_tail.conv13), f, f, 1,
            "MainNet.merge_tail.conv13");
  add_conv (s, AT (main.merge_tail.conv23), f, f, 1,
            "MainNet.merge_tail.conv23");
  add_conv (s, AT (main.merge_tail.conv_merge), f, 3 * f, 3,
            "MainNet.merge_tail.conv_merge");
  add_conv (s, AT (main.merge_tail.conv_tail1), f / 2, f, 3,
            "MainNet.merge_tail.conv_tail1");
  add_conv (s, AT (main.merge_tail.conv_tail2), 3, f / 2, 1,
            "MainNet.merge_tail.conv_tail2");
  add_conv (s, AT (lte.slice1_0), 64, 3, 3, "LTE.slice1.0");
  add_conv (s, AT (lte.slice2_2), 64, 64, 3, "LTE.slice2.2");
  add_conv (s, AT (lte.slice2_5), 128, 64, 3, "LTE.slice2.5");
  add_conv (s, AT (lte.slice3_7), 128, 128, 3, "LTE.slice3.7");
  add_conv (s, AT (lte.slice3_10), 256, 128, 3, "LTE.slice3.10");
  add_conv (s, AT (lte.sub_mean), 3, 3, 1, "LTE.sub_mean");
}

#undef AT
#undef RBS

static void
conv_spec_clear (gpointer p)
{
  g_free (((ConvSpec *) p)->prefix);
}

/* The model's convolutions in key order; m may be NULL. */
static GArray *
list_convs (RefsrModel *m, const RefsrConfig *config)
{
  GArray *specs = g_array_new (FALSE, FALSE, sizeof (ConvSpec));

  g_array_set_clear_func (specs, conv_spec_clear);
  list_stage1_2 (specs, m, config);
  list_stage3 (specs, m, config);
  list_tail_lte (specs, m, config);
  return specs;
}

static void
expected_key_free (gpointer p)
{
  RefsrExpectedKey *key = p;

  g_free (key->name);
  g_free (key);
}

GPtrArray *
refsr_model_expected_keys (const RefsrConfig *config)
{
  GArray *specs = list_convs (NULL, config);
  GPtrArray *keys = g_ptr_array_new_with_free_func (expected_key_free);

  for (guint i = 0; i < specs->len; i++)
    {
      const ConvSpec *spec = &g_array_index (specs, ConvSpec, i);
      RefsrExpectedKey *w = g_new0 (RefsrExpectedKey, 1);
      RefsrExpectedKey *b = g_new0 (RefsrExpectedKey, 1);

      w->name = g_strconcat (spec->prefix, ".weight", NULL);
      w->ndim = 4;
      w->shape[0] = spec->cout;
      w->shape[1] = spec->cin;
      w->shape[2] = w->shape[3] = spec->k;
      b->name = g_strconcat (spec->prefix, ".bias", NULL);
      b->ndim = 1;
      b->shape[0] = spec->cout;
      g_ptr_array_add (keys, w);
      g_ptr_array_add (keys, b);
    }
  g_array_unref (specs);
  return keys;
}

static char *
format_shape (int ndim, const gint64 *shape)
{
  GString *s = g_string_new ("[");

  for (int d = 0; d < ndim; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? "," : "", shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static gboolean
shape_error (const RefsrStateTensor *t, int ndim, const gint64 *expected,
             GError **error)
{
  char *got = format_shape (t->ndim, t->shape);
  char *want = format_shape (ndim, expected);

  g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
               "tensor %s has shape %s, expected %s", t->name, got, want);
  g_free (got);
  g_free (want);
  return FALSE;
}

/* Finds name with exactly the given shape. */
static const float *
find_tensor (const RefsrStateDict *sd, const char *name, int ndim,
             const gint64 *shape, GError **error)
{
  const RefsrStateTensor *t = refsr_state_dict_get (sd, name);

  if (t == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "missing tensor %s", name);
      return NULL;
    }
  if (t->ndim != ndim || memcmp (t->shape, shape, ndim * sizeof *shape) != 0)
    {
      shape_error (t, ndim, shape, error);
      return NULL;
    }
  /* a NaN or infinity would spread through the whole image */
  for (gint64 i = 0; i < t->numel; i++)
    if (!isfinite (t->data[i]))
      {
        g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                     "tensor %s holds a value that is not a finite number "
                     "(element %" G_GINT64_FORMAT ")", name, i);
        return NULL;
      }
  return t->data;
}

static gboolean
bind_conv (const RefsrStateDict *sd, const ConvSpec *spec, GError **error)
{
  gint64 wshape[4] = { spec->cout, spec->cin, spec->k, spec->k };
  gint64 bshape[1] = { spec->cout };
  char *name = g_strconcat (spec->prefix, ".weight", NULL);
  const float *weight = find_tensor (sd, name, 4, wshape, error);
  const float *bias = NULL;

  g_free (name);
  if (weight == NULL)
    return FALSE;
  name = g_strconcat (spec->prefix, ".bias", NULL);
  bias = find_tensor (sd, name, 1, bshape, error);
  g_free (name);
  if (bias == NULL)
    return FALSE;
  spec->target->cout = spec->cout;
  spec->target->cin = spec->cin;
  spec->target->k = spec->k;
  spec->target->weight = weight;
  spec->target->bias = bias;
  return TRUE;
}

/* DataParallel checkpoints name every key "module.<key>". */
static gboolean
strip_module_prefix (RefsrStateDict *sd, GError **error)
{
  g_hash_table_remove_all (sd->by_name);
  for (guint i = 0; i < sd->tensors->len; i++)
    {
      RefsrStateTensor *t = g_ptr_array_index (sd->tensors, i);
      if (g_str_has_prefix (t->name, "module."))
        memmove (t->name, t->name + 7, strlen (t->name + 7) + 1);
      if (!g_hash_table_insert (sd->by_name, t->name, t))
        {
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                       "tensor %s appears both with and without the "
                       "'module.' prefix", t->name);
          return FALSE;
        }
    }
  return TRUE;
}

/* 1 + the ResBlock index in "<list>.<index>.", or 0 if name is not one. */
static int
block_count (const char *name, const char *list)
{
  const char *p;
  char *end;
  long index;

  if (!g_str_has_prefix (name, list))
    return 0;
  p = name + strlen (list);
  if (!g_ascii_isdigit (*p) || (*p == '0' && p[1] != '.'))
    return 0;
  index = strtol (p, &end, 10);
  if (*end != '.' || index >= MODEL_MAX_BLOCKS)
    return 0; /* left for the "unexpected tensor" check */
  return (int) index + 1;
}

static gboolean
infer_config (const RefsrStateDict *sd, RefsrConfig *config, GError **error)
{
  static const char *const lists[4] = {
    "MainNet.SFE.RBs.", "MainNet.RB11.", "MainNet.RB21.", "MainNet.RB31."
  };
  const char *head = "MainNet.SFE.conv_head.weight";
  const RefsrStateTensor *t = refsr_state_dict_get (sd, head);
  static const gint64 reference[4] = { 64, 3, 3, 3 };

  memset (config, 0, sizeof *config);
  if (t == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "missing tensor %s", head);
      return FALSE;
    }
  if (t->ndim != 4 || t->shape[0] < 2 || t->shape[0] > MODEL_MAX_FEATS
      || t->shape[1] != 3 || t->shape[2] != 3 || t->shape[3] != 3)
    return shape_error (t, 4, reference, error);
  config->n_feats = (int) t->shape[0];
  for (guint i = 0; i < sd->tensors->len; i++)
    {
      const RefsrStateTensor *u = g_ptr_array_index (sd->tensors, i);
      for (int l = 0; l < 4; l++)
        config->n_res_blocks[l] = MAX (config->n_res_blocks[l],
                                       block_count (u->name, lists[l]));
    }
  return TRUE;
}

static gboolean
check_no_extra (const RefsrStateDict *sd, const RefsrConfig *config,
                GError **error)
{
  GPtrArray *keys = refsr_model_expected_keys (config);
  GHashTable *expected = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok = TRUE;

  for (guint i = 0; i < keys->len; i++)
    g_hash_table_add (expected,
                      ((RefsrExpectedKey *) g_ptr_array_index (keys, i))->name);
  for (guint i = 0; ok && i < sd->tensors->len; i++)
    {
      const RefsrStateTensor *t = g_ptr_array_index (sd->tensors, i);
      /* a raw model.state_dict() also holds the frozen LTE copy used only
       * by the training loss; the official loader accepts such files */
      if (!g_hash_table_contains (expected, t->name)
          && !g_str_has_prefix (t->name, "LTE_copy."))
        {
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                       "unexpected tensor %s", t->name);
          ok = FALSE;
        }
    }
  g_hash_table_unref (expected);
  g_ptr_array_unref (keys);
  return ok;
}

static RefsrModel *
model_new (const RefsrConfig *config, RefsrStateDict *sd)
{
  RefsrModel *m = g_new0 (RefsrModel, 1);
  const int *n = config->n_res_blocks;

  m->config = *config;
  m->weights = sd;
  m->main.sfe.rbs = g_new0 (RefsrResBlock, MAX (n[0], 1));
  m->main.rb11 = g_new0 (RefsrResBlock, MAX (n[1], 1));
  m->main.rb21 = g_new0 (RefsrResBlock, MAX (n[2], 1));
  m->main.rb22 = g_new0 (RefsrResBlock, MAX (n[2], 1));
  m->main.rb31 = g_new0 (RefsrResBlock, MAX (n[3], 1));
  m->main.rb32 = g_new0 (RefsrResBlock, MAX (n[3], 1));
  m->main.rb33 = g_new0 (RefsrResBlock, MAX (n[3], 1));
  return m;
}

RefsrModel *
refsr_model_from_state_dict (RefsrStateDict *sd, GError **error)
{
  RefsrConfig config;
  RefsrModel *m;
  GArray *specs;
  gboolean ok = TRUE;

  if (!strip_module_prefix (sd, error) || !infer_config (sd, &config, error))
    {
      refsr_state_dict_free (sd);
      return NULL;
    }
  m = model_new (&config, sd);
  specs = list_convs (m, &config);
  for (guint i = 0; ok && i < specs->len; i++)
    ok = bind_conv (sd, &g_array_index (specs, ConvSpec, i), error);
  g_array_unref (specs);
  if (ok)
    ok = check_no_extra (sd, &config, error);
  if (!ok)
    {
      refsr_model_free (m);
      return NULL;
    }
  return m;
}

void
refsr_model_free (RefsrModel *model)
{
  if (model == NULL)
    return;
  g_free (model->main.sfe.rbs);
  g_free (model->main.rb11);
  g_free (model->main.rb21);
  g_free (model->main.rb22);
  g_free (model->main.rb31);
  g_free (model->main.rb32);
  g_free (model->main.rb33);
  refsr_state_dict_free (model->weights);
  g_free (model);
}

void
refsr_model_get_config (const RefsrModel *model, RefsrConfig *config)
{
  *config = model->config;
}
