/* refsr.c — the refsr command: 4x reference-based super-resolution of an
 * image file, and conversion of PyTorch checkpoints.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image-io.h"
#include "refsr.h"

/* Set by SIGINT/SIGTERM; the engine polls it through RefsrOptions.cancel.
 * Storing to a lock-free atomic is async-signal-safe. */
static atomic_int cancel_requested;
G_STATIC_ASSERT (ATOMIC_INT_LOCK_FREE == 2);

static void
on_interrupt (int sig)
{
  (void) sig;
  atomic_store (&cancel_requested, 1);
}

/* The first Ctrl-C cancels cleanly (the work stops at the next check and
 * nothing is written); SA_RESETHAND makes a second one end the process at
 * once, as usual. */
static void
catch_interrupts (void)
{
  struct sigaction action;

  memset (&action, 0, sizeof action);
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);
}

static gboolean
check_cancel (GError **error)
{
  if (!atomic_load (&cancel_requested))
    return TRUE;
  g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_CANCELLED,
                       "cancelled; nothing was written");
  return FALSE;
}

typedef struct
{
  char *weights, *reference, *output, *dump;
  int threads;
  gboolean quiet;
  char **inputs;
} CliArgs;

typedef struct
{
  int last_percent;
  gboolean line_open; /* a progress line without its newline is shown */
} Progress;

static void
print_progress (double fraction, const char *stage, void *data)
{
  Progress *progress = data;
  int percent = (int) (fraction * 100.0);

  if (percent == progress->last_percent)
    return;
  progress->last_percent = percent;
  fprintf (stderr, "\r%3d%%  %-16s", percent, stage);
  progress->line_open = fraction < 1.0;
  if (!progress->line_open)
    fputc ('\n', stderr);
  fflush (stderr);
}

/* Keeps an error message that follows on a line of its own. */
static void
end_progress_line (Progress *progress)
{
  if (progress->line_open)
    fputc ('\n', stderr);
  progress->line_open = FALSE;
}

static RefsrModel *
load_model (const char *weights, GError **error)
{
  GError *missing = NULL;
  char *path = weights != NULL ? g_strdup (weights)
                               : refsr_default_model_path (&missing);
  RefsrModel *model;

  if (path == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "no weights: pass --weights FILE (a TTSR checkpoint such "
                   "as the official TTSR-rec.pt from the TTSR authors' "
                   "release, or a safetensors file), or set REFSR_WEIGHTS "
                   "(%s)", missing->message);
      g_error_free (missing);
      return NULL;
    }
  model = refsr_model_load (path, error);
  g_free (path);
  return model;
}

/* Fails before the long computation when the output cannot be written. */
static gboolean
check_writable (const char *path, GError **error)
{
  char *dir = g_path_get_dirname (path);
  const char *problem = NULL;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    problem = "no such folder";
  else if (access (dir, W_OK) != 0)
    problem = "the folder is not writable";
  else if (g_file_test (path, G_FILE_TEST_IS_DIR))
    problem = "it is a folder";
  if (problem != NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                 "Could not write '%s': %s", path, problem);
  g_free (dir);
  return problem == NULL;
}

/* Writes the PNG, then the dump if asked, so that either every output
 * appears complete or none does: the PNG waits under a temporary name
 * until the dump is written, and the dump is removed again if the PNG
 * cannot take its place (a dump that was there before is then lost). */
static gboolean
write_outputs (const char *output, const char *dump, const RefsrResult *r,
               GError **error)
{
  GBytes *png = refsr_io_encode_png (r->pixels, r->width, r->height, error);
  RefsrIoOutput pending = { NULL, NULL };
  gboolean ok, dump_written = FALSE;

  ok = png != NULL
       && refsr_io_output_write (&pending, output, g_bytes_get_data (png, NULL),
                            g_bytes_get_size (png), error)
       && check_cancel (error);
  if (png != NULL)
    g_bytes_unref (png);
  if (ok && dump != NULL)
    ok = dump_written = refsr_result_save_tensors (r, dump, error);
  ok = ok && check_cancel (error) && refsr_io_output_commit (&pending, error);
  if (!ok && dump_written)
    g_unlink (dump);
  refsr_io_output_discard (&pending);
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
  RefsrIoImage lr = { 0 }, ref = { 0 };
  RefsrModel *model = NULL;
  RefsrResult *result = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  char *output = args->output ? g_strdup (args->output)
                              : default_output (args->inputs[0]);
  Progress progress = { -1, FALSE };
  RefsrIoLoadOptions lr_options = { REFSR_MAX_LR_PIXELS, &cancel_requested };
  RefsrIoLoadOptions ref_options = { REFSR_MAX_REF_PIXELS, &cancel_requested };
  gboolean ok = FALSE;

  options.n_threads = args->threads;
  options.cancel = &cancel_requested;
  options.keep_textures = args->dump != NULL;
  if (!args->quiet && isatty (2))
    {
      options.progress = print_progress;
      options.progress_data = &progress;
    }
  if (check_writable (output, error)
      && (args->dump == NULL || check_writable (args->dump, error))
      && (model = load_model (args->weights, error)) != NULL
      && refsr_io_load_image (args->inputs[0], &lr_options, &lr, error)
      && refsr_io_load_image (args->reference, &ref_options, &ref, error)
      && check_cancel (error))
    {
      RefsrImage lr_img = { lr.pixels, lr.width, lr.height, lr.width * 3 };
      RefsrImage ref_img = { ref.pixels, ref.width, ref.height, ref.width * 3 };
      result = refsr_run (model, &lr_img, &ref_img, &options, error);
    }
  if (result != NULL)
    ok = write_outputs (output, args->dump, result, error);
  if (!ok)
    end_progress_line (&progress);
  if (ok && !args->quiet)
    printf ("%s: %d×%d -> %s %d×%d\n", args->inputs[0], lr.width, lr.height,
            output, result->width, result->height);
  refsr_result_free (result);
  refsr_model_free (model);
  refsr_io_image_clear (&lr);
  refsr_io_image_clear (&ref);
  g_free (output);
  return ok;
}

static gboolean
convert (int argc, char **argv, GError **error)
{
  RefsrModel *model;
  gboolean ok;

  if (argc != 4)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "usage: refsr convert IN.pt OUT.safetensors");
      return FALSE;
    }
  /* loading binds and checks every tensor before anything is written */
  if (!check_writable (argv[3], error)
      || (model = refsr_model_load (argv[2], error)) == NULL)
    return FALSE;
  ok = check_cancel (error) && refsr_model_save (model, argv[3], error);
  refsr_model_free (model);
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

  catch_interrupts ();
  if (argc >= 2 && strcmp (argv[1], "convert") == 0)
    ok = convert (argc, argv, &error);
  else if ((ok = parse_args (&argc, &argv, &args, &error)))
    {
      refsr_io_init ();
      ok = super_resolve (&args, &error);
      refsr_io_exit ();
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
