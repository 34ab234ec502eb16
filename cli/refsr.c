/* refsr.c — the refsr command: 4x reference-based super-resolution of an
 * image file, and conversion of PyTorch checkpoints.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image-io.h"
#include "refsr-config.h"
#include "refsr.h"
#include "state-dict.h"

#define DEFAULT_MODEL "refsr-default.safetensors"

static volatile int cancel_requested;

static void
on_interrupt (int sig)
{
  (void) sig;
  cancel_requested = 1;
}

typedef struct
{
  char *weights, *reference, *output, *dump;
  int threads;
  gboolean quiet;
  char **inputs;
} CliArgs;

static void
print_progress (double fraction, const char *stage, void *data)
{
  int *last = data;
  int percent = (int) (fraction * 100.0);

  if (percent == *last)
    return;
  *last = percent;
  fprintf (stderr, "\r%3d%%  %-16s", percent, stage);
  if (fraction >= 1.0)
    fputc ('\n', stderr);
  fflush (stderr);
}

/* The model used without --weights: $REFSR_WEIGHTS, the installed data
 * folder, or data/ of the source tree when run from a build folder. */
static char *
find_default_weights (void)
{
  const char *env = g_getenv ("REFSR_WEIGHTS");
  char *exe = g_file_read_link ("/proc/self/exe", NULL);
  char *exe_dir = exe ? g_path_get_dirname (exe) : g_strdup (".");
  char *candidates[] = {
    g_strdup (env ? env : ""),
    g_build_filename (REFSR_DATADIR, DEFAULT_MODEL, NULL),
    g_build_filename (exe_dir, "..", "..", "data", DEFAULT_MODEL, NULL),
    g_build_filename (exe_dir, "..", "share", "refsr", DEFAULT_MODEL, NULL),
  };
  char *found = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      if (found == NULL && candidates[i][0] != '\0'
          && g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
        found = g_strdup (candidates[i]);
      g_free (candidates[i]);
    }
  g_free (exe);
  g_free (exe_dir);
  return found;
}

static RefsrModel *
load_model (const char *weights, GError **error)
{
  char *path = weights ? g_strdup (weights) : find_default_weights ();
  RefsrModel *model;

  if (path == NULL)
    {
      g_set_error_literal (
          error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
          "no weights: pass --weights FILE (a TTSR checkpoint such as the "
          "official TTSR-rec.pt from the TTSR authors' release, or a "
          "safetensors file), or set REFSR_WEIGHTS");
      return NULL;
    }
  model = refsr_model_load (path, error);
  g_free (path);
  return model;
}

static gboolean
write_dump (const char *path, const RefsrResult *r, GError **error)
{
  gint64 h = r->lr_height, w = r->lr_width;
  RefsrSafetensorsEntry e[] = {
    { "S", "F32", 4, { 1, 1, h, w }, r->S },
    { "idx", "I64", 1, { h * w }, r->idx },
    { "T_lv3", "F32", 4, { 1, 256, h, w }, r->t_lv3 },
    { "T_lv2", "F32", 4, { 1, 128, 2 * h, 2 * w }, r->t_lv2 },
    { "T_lv1", "F32", 4, { 1, 64, 4 * h, 4 * w }, r->t_lv1 },
    { "sr", "F32", 4, { 1, 3, 4 * h, 4 * w }, r->sr },
  };
  return refsr_safetensors_write (path, e, G_N_ELEMENTS (e), NULL, error);
}

/* GEGL's loaders warn on stderr about files they reject; refsr reports
 * every failure itself in one line, so library chatter is shown only with
 * REFSR_VERBOSE set. */
static GLogWriterOutput
quiet_log_writer (GLogLevelFlags level, const GLogField *fields,
                  gsize n_fields, gpointer data)
{
  if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) == 0
      && g_getenv ("REFSR_VERBOSE") == NULL)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

/* Fails before the long computation when the output cannot be written. */
static gboolean
check_writable (const char *path, GError **error)
{
  char *dir = g_path_get_dirname (path);
  gboolean ok = g_file_test (dir, G_FILE_TEST_IS_DIR)
                && access (dir, W_OK) == 0;

  if (!ok)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                 "Could not write '%s': %s", path,
                 g_file_test (dir, G_FILE_TEST_IS_DIR)
                     ? "the folder is not writable" : "no such folder");
  g_free (dir);
  return ok;
}

static char *
default_output (const char *input)
{
  char *base = g_strdup (input);
  char *dot = strrchr (base, '.');
  char *slash = strrchr (base, '/');
  char *out;

  if (dot != NULL && (slash == NULL || dot > slash))
    *dot = '\0';
  out = g_strdup_printf ("%s-x4.png", base);
  g_free (base);
  return out;
}

static gboolean
super_resolve (const CliArgs *args, GError **error)
{
  CliImage lr = { 0 }, ref = { 0 };
  RefsrModel *model = NULL;
  RefsrResult *result = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  char *output = args->output ? g_strdup (args->output)
                              : default_output (args->inputs[0]);
  int last_percent = -1;
  gboolean ok = FALSE;

  options.n_threads = args->threads;
  options.cancel = &cancel_requested;
  options.keep_textures = args->dump != NULL;
  if (!args->quiet && isatty (2))
    {
      options.progress = print_progress;
      options.progress_data = &last_percent;
    }
  if (check_writable (output, error)
      && (args->dump == NULL || check_writable (args->dump, error))
      && (model = load_model (args->weights, error)) != NULL
      && cli_image_load (args->inputs[0], &lr, error)
      && cli_image_load (args->reference, &ref, error))
    {
      RefsrImage lr_img = { lr.pixels, lr.width, lr.height, lr.width * 3 };
      RefsrImage ref_img = { ref.pixels, ref.width, ref.height, ref.width * 3 };
      result = refsr_run (model, &lr_img, &ref_img, &options, error);
    }
  if (result != NULL)
    ok = (args->dump == NULL || write_dump (args->dump, result, error))
         && cli_image_save_png (output, result->pixels, result->width,
                                result->height, error);
  if (ok && !args->quiet)
    printf ("%s: %d×%d -> %s %d×%d\n", args->inputs[0], lr.width, lr.height,
            output, result->width, result->height);
  refsr_result_free (result);
  refsr_model_free (model);
  cli_image_clear (&lr);
  cli_image_clear (&ref);
  g_free (output);
  return ok;
}

static gboolean
convert (int argc, char **argv, GError **error)
{
  RefsrStateDict *sd;
  RefsrModel *model;
  gboolean ok;

  if (argc != 4)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "usage: refsr convert IN.pt OUT.safetensors");
      return FALSE;
    }
  /* check the weights fit the architecture before writing anything */
  if ((model = refsr_model_load (argv[2], error)) == NULL)
    return FALSE;
  refsr_model_free (model);
  if ((sd = refsr_state_dict_load (argv[2], error)) == NULL)
    return FALSE;
  ok = refsr_state_dict_write_safetensors (sd, argv[3], error);
  refsr_state_dict_free (sd);
  return ok;
}

static gboolean
parse_args (int *argc, char ***argv, CliArgs *args, GError **error)
{
  GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &args->weights,
      "Model weights (.safetensors or TTSR .pt); default: the built-in model",
      "FILE" },
    { "reference", 'r', 0, G_OPTION_ARG_FILENAME, &args->reference,
      "High-resolution reference image (required)", "REF" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &args->output,
      "Output PNG (default: LR-x4.png)", "OUT" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &args->threads,
      "Threads to use (default: all cores)", "N" },
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &args->dump,
      "Also write S, idx, T_lv3, T_lv2, T_lv1 and sr as safetensors",
      "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &args->quiet,
      "Print nothing but errors", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->inputs,
      NULL, "LR" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new (
      "LR — enlarge an image 4× with texture from a reference\n"
      "       refsr convert IN.pt OUT.safetensors");
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
      "Reference-based super-resolution (TTSR, Yang et al., CVPR 2020).");
  ok = g_option_context_parse (context, argc, argv, error);
  g_option_context_free (context);
  if (ok && (args->inputs == NULL || args->inputs[0] == NULL
             || args->inputs[1] != NULL || args->reference == NULL))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "usage: refsr [--weights FILE] -r REF [-o OUT] "
                           "[--threads N] [--dump FILE] LR (see --help)");
      ok = FALSE;
    }
  if (ok && args->threads < 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--threads must be 1 or more");
      ok = FALSE;
    }
  return ok;
}

int
main (int argc, char **argv)
{
  CliArgs args = { 0 };
  GError *error = NULL;
  gboolean ok;

  g_log_set_writer_func (quiet_log_writer, NULL, NULL);
  signal (SIGINT, on_interrupt);
  signal (SIGTERM, on_interrupt);
  if (argc >= 2 && strcmp (argv[1], "convert") == 0)
    ok = convert (argc, argv, &error);
  else if ((ok = parse_args (&argc, &argv, &args, &error)))
    {
      cli_image_io_init ();
      ok = super_resolve (&args, &error);
      cli_image_io_exit ();
    }
  if (!ok)
    fprintf (stderr, "refsr: %s\n", error ? error->message : "failed");
  g_clear_error (&error);
  g_free (args.weights);
  g_free (args.reference);
  g_free (args.output);
  g_free (args.dump);
  g_strfreev (args.inputs);
  return ok ? 0 : 1;
}
