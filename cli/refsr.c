/* refsr.c — the refsr command: 4x reference-based super-resolution of an
 * image file, and conversion of PyTorch checkpoints.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
  char *weights, *output, *dump, *confidence;
  char **references; /* -r, once or more: the pool */
  int threads;
  RefsrSearch search;
  int n_ref_scales;  /* RefsrOptions' */
  double ref_scales[REFSR_MAX_REF_SCALES];
  int scale;         /* of the output: 4, or 2 or 3 by reducing the 4× */
  int tile;          /* -1: from the budget; 0: the whole image */
  guint64 max_memory;
  gboolean quiet;
  char **inputs;
} CliArgs;

/* The progress line on a terminal: percent, stage and, once a few
 * percent are done, the time left as elapsed × (1 − f) / f; redrawn at
 * most every REDRAW_US (and always at the end). */
#define REDRAW_US (G_USEC_PER_SEC / 4)
#define ETA_FROM 0.03

typedef struct
{
  gint64 start_us, drawn_us;  /* monotonic; drawn_us 0: nothing drawn yet */
  int width;                  /* of the line last drawn */
  gboolean done;              /* 100% was drawn */
  gboolean line_open; /* a progress line without its newline is shown */
} Progress;

/* "about 1 min 20 s left", or "" while too little is done to tell */
static char *
time_left (double fraction, gint64 elapsed_us)
{
  gint64 s;

  if (fraction < ETA_FROM || fraction >= 1.0)
    return g_strdup ("");
  s = (gint64) (elapsed_us * (1.0 - fraction) / fraction
                / G_USEC_PER_SEC + 0.5);
  if (s < 60)
    return g_strdup_printf ("about %d s left", (int) MAX (s, 1));
  if (s < 3600)
    return g_strdup_printf ("about %d min %d s left", (int) (s / 60),
                            (int) (s % 60));
  return g_strdup_printf ("about %d h %d min left", (int) (s / 3600),
                          (int) (s / 60 % 60));
}

static void
print_progress (double fraction, const char *stage, void *data)
{
  Progress *progress = data;
  gint64 now = g_get_monotonic_time ();
  char *left, *line;
  int width;

  if (progress->done || (progress->drawn_us != 0 && fraction < 1.0
                         && now - progress->drawn_us < REDRAW_US))
    return;
  progress->drawn_us = now;
  progress->done = fraction >= 1.0;
  left = time_left (fraction, now - progress->start_us);
  line = g_strdup_printf ("%3d%%  %-14s  %s", (int) (fraction * 100.0),
                          stage, left);
  width = (int) strlen (line);
  /* spaces over what a longer line before left */
  fprintf (stderr, "\r%s%*s", line, MAX (progress->width - width, 0), "");
  progress->width = width;
  progress->line_open = !progress->done;
  if (progress->done)
    fputc ('\n', stderr);
  fflush (stderr);
  g_free (left);
  g_free (line);
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

/* -r given more often than this is surely a mistake (a shell glob). */
#define MAX_REFERENCES 16

#define USAGE                                                               \
  "usage: refsr [--weights FILE] -r REF [-r REF...] [-o OUT.png|-] "        \
  "[--threads N] [--tile N] [--max-memory SIZE] [--scale 2|3|4] "           \
  "[--search auto|exact|fast] [--ref-scales auto|LIST] [--dump FILE] "      \
  "[--confidence FILE] LR, or refsr convert IN.pt OUT.safetensors (see "    \
  "refsr --help)"

/* The program's texts are UTF-8.  In a locale whose character set is not
 * (the C locale: ASCII), the few non-ASCII characters they use are
 * written as their ASCII equivalents, instead of the '?' that GLib's
 * conversion puts there; every other byte, such as those of file names,
 * is left as it is. */
static const struct
{
  const char *utf8, *ascii;
} transliterations[] = {
  { "×", "x" }, { "—", "-" }, { "–", "-" }, { "…", "..." }, { "“", "\"" },
  { "”", "\"" }, { "‘", "'" }, { "’", "'" }, { "▸", ">" }, { "→", "->" },
};

/* text as the terminal should get it; with one_line, control characters
 * (a newline in a file name, say) are escaped, so that a message stays
 * one line whatever it quotes */
static char *
console_text (const char *text, gboolean one_line)
{
  gboolean utf8 = g_get_charset (NULL);
  GString *out = g_string_sized_new (strlen (text));
  const char *p = text;

  while (*p != '\0')
    {
      guchar c = (guchar) *p;
      gsize i = G_N_ELEMENTS (transliterations);

      if (one_line && (c < 0x20 || c == 0x7f))
        {
          g_string_append_printf (out, "\\x%02x", c);
          p++;
          continue;
        }
      if (!utf8 && c >= 0x80)
        for (i = 0; i < G_N_ELEMENTS (transliterations); i++)
          if (g_str_has_prefix (p, transliterations[i].utf8))
            break;
      if (i < G_N_ELEMENTS (transliterations))
        {
          g_string_append (out, transliterations[i].ascii);
          p += strlen (transliterations[i].utf8);
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

static void
write_console (FILE *stream, const char *text, gboolean one_line)
{
  char *converted = console_text (text, one_line);

  fputs (converted, stream);
  if (one_line)
    fputc ('\n', stream);
  fflush (stream);
  g_free (converted);
}

/* GOption's --help and messages go through g_print and g_printerr. */
static void
print_stdout (const char *text)
{
  write_console (stdout, text, FALSE);
}

static void
print_stderr (const char *text)
{
  write_console (stderr, text, FALSE);
}

static void
print_error (const char *message)
{
  char *line = g_strconcat ("refsr: ", message, NULL);

  write_console (stderr, line, TRUE);
  g_free (line);
}

static void
append_to_error (GError **error, const char *text)
{
  char *message;

  if (error == NULL || *error == NULL)
    return;
  message = g_strconcat ((*error)->message, text, NULL);
  g_free ((*error)->message);
  (*error)->message = message;
}

static gboolean
is_stdout (const char *path)
{
  return strcmp (path, "-") == 0;
}

/* The files a run replaces, as refsr_io_check_output resolved them
 * (NULL: standard output, or no dump, no confidence map). */
typedef struct
{
  char *output, *dump, *confidence;
} Targets;

static void
clear_targets (Targets *targets)
{
  g_clear_pointer (&targets->output, g_free);
  g_clear_pointer (&targets->dump, g_free);
  g_clear_pointer (&targets->confidence, g_free);
}

static gboolean
check_png_output (const char *output, const char *const *inputs,
                  Targets *targets, GError **error)
{
  GStatBuf st;

  if (is_stdout (output))
    return refsr_io_check_output_fd (STDOUT_FILENO, "standard output",
                                     inputs, error);
  if (refsr_io_check_output (output, inputs, &targets->output, error))
    return TRUE;
  /* A device or a FIFO is written to only when that is asked for
   * explicitly; say how. */
  if (g_stat (output, &st) == 0 && !S_ISREG (st.st_mode)
      && !S_ISDIR (st.st_mode))
    append_to_error (error, "; to write to a device or a pipe, use -o - "
                     "and redirect standard output");
  return FALSE;
}

/* The option of the output that target is already taken by, or NULL. */
static const char *
taken_by (const Targets *targets, const char *target)
{
  if (targets->output == NULL ? refsr_io_same_file_fd (STDOUT_FILENO, target)
                              : refsr_io_same_file (targets->output, target))
    return "-o";
  if (targets->dump != NULL && refsr_io_same_file (targets->dump, target))
    return "--dump";
  return NULL;
}

/* An output beside the PNG (the dump, the confidence map): a file, no
 * input, and not one of the outputs checked before it. */
static gboolean
check_side_output (const char *option, const char *what, const char *path,
                   const char *const *inputs, const Targets *targets,
                   char **target, GError **error)
{
  const char *other;
  char *resolved = NULL;

  if (is_stdout (path))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot write the %s to standard output: give %s a file "
                   "name", what, option);
      return FALSE;
    }
  if (!refsr_io_check_output (path, inputs, &resolved, error))
    return FALSE;
  if ((other = taken_by (targets, resolved)) != NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                   "cannot write '%s': %s and %s name the same file", path,
                   option, other);
      g_free (resolved);
      return FALSE;
    }
  *target = resolved;
  return TRUE;
}

/* Everything about the files that can be known without reading them,
 * checked before the model or an image is loaded: the inputs exist, and
 * no output is an input (the LR image, the reference or the weights
 * file), a folder, a device node, or the other output. */
static gboolean
check_files (const CliArgs *args, const char *output, Targets *targets,
             GError **error)
{
  char *model = args->weights != NULL ? g_strdup (args->weights)
                                      : refsr_default_model_path (NULL);
  int n_refs = (int) g_strv_length (args->references);
  g_autofree const char **names = g_new0 (const char *, n_refs + 3);
  const char *const *inputs = names;
  gboolean ok;

  /* the model last: without a built-in model it is NULL, the end */
  names[0] = args->inputs[0];
  for (int i = 0; i < n_refs; i++)
    names[1 + i] = args->references[i];
  names[1 + n_refs] = model;
  ok = refsr_io_check_input (args->inputs[0], error);
  for (int i = 0; ok && i < n_refs; i++)
    ok = refsr_io_check_input (args->references[i], error);
  ok = ok && check_png_output (output, inputs, targets, error)
       && (args->dump == NULL
           || check_side_output ("--dump", "dump", args->dump, inputs,
                                 targets, &targets->dump, error))
       && (args->confidence == NULL
           || check_side_output ("--confidence", "confidence map",
                                 args->confidence, inputs, targets,
                                 &targets->confidence, error));
  g_free (model);
  if (!ok)
    clear_targets (targets);
  return ok;
}

/* The 4× output as the tiles arrive: 8-bit RGB, or, for a 16-bit LR file
 * enlarged 4×, 16-bit samples of the float result.  The engine never
 * holds the whole output in float; this is the only copy. */
typedef struct
{
  int width, height;
  guint8 *pixels;   /* packed RGB rows, or NULL */
  guint16 *wide;    /* packed RGB rows, or NULL */
} Canvas;

static gboolean
canvas_init (Canvas *canvas, int lr_width, int lr_height, gboolean wide,
             GError **error)
{
  gsize n = (gsize) 16 * lr_width * lr_height * 3;

  canvas->width = 4 * lr_width;
  canvas->height = 4 * lr_height;
  if (wide)
    canvas->wide = g_try_malloc (n * sizeof (guint16));
  else
    canvas->pixels = g_try_malloc (n);
  if (canvas->wide == NULL && canvas->pixels == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory for the %d×%d result", canvas->width,
                   canvas->height);
      return FALSE;
    }
  return TRUE;
}

static void
canvas_clear (Canvas *canvas)
{
  g_clear_pointer (&canvas->pixels, g_free);
  g_clear_pointer (&canvas->wide, g_free);
}

/* Bytes of a canvas for an LR image, and of its PNG while it is encoded
 * (at most about as large, for noise). */
static double
canvas_bytes (int lr_width, int lr_height, gboolean wide)
{
  return 2.0 * 48.0 * lr_width * lr_height * (wide ? 2 : 1);
}

/* 16-bit samples: (v + 1) / 2 · 65535 rounded to nearest, clamped. */
static gboolean
canvas_take_tile (const RefsrTile *tile, void *data, GError **error)
{
  Canvas *canvas = data;
  gsize plane = (gsize) tile->width * tile->height;

  if (canvas->pixels != NULL)
    {
      refsr_tile_copy_pixels (tile, canvas->pixels,
                              (gsize) canvas->width * 3);
      return TRUE;
    }
  for (int y = 0; y < tile->height; y++)
    {
      gsize row = ((gsize) (tile->y + y) * canvas->width + tile->x) * 3;

      for (int x = 0; x < tile->width; x++)
        for (int c = 0; c < 3; c++)
          {
            double v = ((double) tile->sr[c * plane + (gsize) y * tile->width
                                          + x] + 1.0) * 0.5;

            canvas->wide[row + 3 * x + c]
                = (guint16) (v > 0.0 ? MIN (v, 1.0) * 65535.0 + 0.5 : 0.0);
          }
    }
  return TRUE;
}

/* A result kept whole (for --dump) poured into the canvas as one tile. */
static void
canvas_take_result (Canvas *canvas, const RefsrResult *r)
{
  RefsrTile whole = { 0, 0, r->width, r->height, r->pixels, r->sr };

  canvas_take_tile (&whole, canvas, NULL);
}

/* The PNG of the result at scale × the LR size: 16-bit at 4× when the
 * LR file was 16-bit, otherwise 8-bit, reduced from the 4× pixels for a
 * scale of 2 or 3. */
static GBytes *
encode_output (const Canvas *canvas, int scale, GError **error)
{
  RefsrImage sr = { canvas->pixels, canvas->width, canvas->height,
                    canvas->width * 3 };
  int width = canvas->width / 4 * scale, height = canvas->height / 4 * scale;
  guint8 *reduced;
  GBytes *png = NULL;

  if (canvas->wide != NULL)
    return refsr_io_encode_png16 (canvas->wide, canvas->width,
                                  canvas->height, error);
  if (scale == 4)
    return refsr_io_encode_png (canvas->pixels, width, height, error);
  reduced = g_try_malloc ((gsize) width * height * 3);
  if (reduced == NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                 "Out of memory reducing the result to %d×%d", width,
                 height);
  else if (refsr_resize_rgb (&sr, reduced, width, height, error))
    png = refsr_io_encode_png (reduced, width, height, error);
  g_free (reduced);
  return png;
}

/* Keeps data (which it takes) under a temporary name beside the file
 * name, or in memory for standard output, until committed. */
static gboolean
stage_output (RefsrIoOutput *pending, const char *name, gboolean to_stdout,
              GBytes *data, GError **error)
{
  gboolean ok;

  if (data == NULL)
    return FALSE;
  ok = to_stdout
       ? refsr_io_output_write_fd (pending, STDOUT_FILENO, "standard output",
                                   g_bytes_get_data (data, NULL),
                                   g_bytes_get_size (data), error)
       : refsr_io_output_write (pending, name, g_bytes_get_data (data, NULL),
                                g_bytes_get_size (data), error);
  g_bytes_unref (data);
  return ok && check_cancel (error);
}

/* The soft-attention map S at the output size, as a grey PNG: each LR
 * pixel's value, clamped to [0, 1], as a block of scale × scale pixels
 * (nearest neighbour, so every pixel is a value the engine computed). */
static GBytes *
encode_confidence (const RefsrResult *r, int scale, GError **error)
{
  int width = r->lr_width * scale, height = r->lr_height * scale;
  guint8 *grey = g_try_malloc ((gsize) width * height);
  GBytes *png;

  if (grey == NULL)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "Out of memory making the %d×%d confidence map", width,
                   height);
      return NULL;
    }
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        float s = r->S[(gsize) (y / scale) * r->lr_width + x / scale];

        grey[(gsize) y * width + x]
            = (guint8) (s > 0.0f ? MIN (s, 1.0f) * 255.0 + 0.5 : 0.0);
      }
  png = refsr_io_encode_png_grey (grey, width, height, error);
  g_free (grey);
  return png;
}

/* Writes the PNG, the confidence map and the dump, as asked, so that
 * either every output appears complete or none does: the PNG and the map
 * wait under temporary names (or, for standard output, in memory) until
 * the dump is written, and what was committed is removed again if the PNG
 * cannot take its place (a file that was there before is then lost). */
static gboolean
write_outputs (const CliArgs *args, const char *output, const Canvas *canvas,
               const Targets *targets, const RefsrResult *r, GError **error)
{
  RefsrIoOutput png = { NULL }, confidence = { NULL };
  gboolean ok, dump_written = FALSE, confidence_written = FALSE;

  ok = stage_output (&png, output, targets->output == NULL,
                     encode_output (canvas, args->scale, error), error)
       && (targets->confidence == NULL
           || stage_output (&confidence, args->confidence, FALSE,
                            encode_confidence (r, args->scale, error),
                            error));
  if (ok && targets->dump != NULL)
    ok = dump_written = refsr_result_save_tensors (r, targets->dump, error);
  if (ok && targets->confidence != NULL)
    ok = confidence_written = check_cancel (error)
                              && refsr_io_output_commit (&confidence, error);
  ok = ok && check_cancel (error) && refsr_io_output_commit (&png, error);
  if (!ok && dump_written)
    g_unlink (targets->dump);
  if (!ok && confidence_written)
    g_unlink (targets->confidence);
  refsr_io_output_discard (&png);
  refsr_io_output_discard (&confidence);
  return ok;
}

/* LR-x4.png (-x2, -x3 with --scale) beside LR: the extension of the file
 * name (not of a folder, nor the dot of a hidden file) replaced. */
static char *
default_output (const char *input, int scale)
{
  char *base = g_strdup (input);
  char *dot = strrchr (base, '.');
  char *slash = strrchr (base, '/');
  const char *name = slash != NULL ? slash + 1 : base;
  char *out;

  if (dot != NULL && dot > name)
    *dot = '\0';
  out = g_strdup_printf ("%s-x%d.png", base, scale);
  g_free (base);
  return out;
}

/* The engine's share of the budget: what is left after the images this
 * command holds itself (the inputs, the 4× canvas and its PNG, a reduced
 * copy); 0 with an error when nothing is left. */
static guint64
engine_budget (const CliArgs *args, const RefsrIoImage *lr,
               const RefsrIoImage *refs, int n_refs, gboolean wide,
               GError **error)
{
  double own = 3.0 * (double) lr->width * lr->height
               + canvas_bytes (lr->width, lr->height, wide)
               + 3.0 * args->scale * args->scale * lr->width * lr->height;
  double engine;

  for (int i = 0; i < n_refs; i++)
    own += 3.0 * (double) refs[i].width * refs[i].height;
  engine = (double) args->max_memory - own;

  if (engine < 16.0 * 1048576.0)
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
                   "The images alone take %.0f MB (a %d×%d result), which "
                   "leaves less than 16 MB of the memory budget of %.0f MB "
                   "for the enlargement: raise --max-memory", own / 1048576.0,
                   lr->width * args->scale, lr->height * args->scale,
                   args->max_memory / 1048576.0);
      return 0;
    }
  return (guint64) engine;
}

/* Enlarges lr with the pool of references into the canvas: tile by
 * tile, or whole with --dump (which needs the textures and the float
 * result). */
static RefsrResult *
enlarge (const CliArgs *args, const RefsrModel *model, const RefsrIoImage *lr,
         const RefsrIoImage *refs, int n_refs, RefsrOptions *options,
         Canvas *canvas, GError **error)
{
  RefsrImage lr_img = { lr->pixels, lr->width, lr->height, lr->width * 3 };
  g_autofree RefsrImage *ref_imgs = g_new (RefsrImage, n_refs);
  gboolean wide = lr->bit_depth == 16 && args->scale == 4;
  RefsrResult *result;

  for (int i = 0; i < n_refs; i++)
    ref_imgs[i] = (RefsrImage) { refs[i].pixels, refs[i].width,
                                 refs[i].height, refs[i].width * 3 };
  if ((options->max_memory = engine_budget (args, lr, refs, n_refs, wide,
                                            error)) == 0
      || !canvas_init (canvas, lr->width, lr->height, wide, error))
    return NULL;
  options->tile_size = args->tile != 0 ? args->tile
                                       : MAX (lr->width, lr->height);
  if (args->dump == NULL)
    {
      options->tile_done = canvas_take_tile;
      options->tile_data = canvas;
    }
  result = refsr_run_pool (model, &lr_img, ref_imgs, n_refs, options, error);
  if (result != NULL && args->dump != NULL)
    canvas_take_result (canvas, result);
  return result;
}

static gboolean
load_references (const CliArgs *args, const RefsrIoLoadOptions *options,
                 RefsrIoImage *refs, GError **error)
{
  for (int i = 0; args->references[i] != NULL; i++)
    if (!refsr_io_load_image (args->references[i], options, &refs[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
super_resolve (const CliArgs *args, GError **error)
{
  RefsrIoImage lr = { 0 };
  int n_refs = (int) g_strv_length (args->references);
  RefsrIoImage *refs = NULL;
  RefsrModel *model = NULL;
  RefsrResult *result = NULL;
  RefsrOptions options = REFSR_OPTIONS_INIT;
  Canvas canvas = { 0 };
  char *output = args->output ? g_strdup (args->output)
                              : default_output (args->inputs[0],
                                                args->scale);
  Targets targets = { NULL, NULL, NULL };
  Progress progress = { 0 };
  RefsrIoLoadOptions lr_options = { REFSR_MAX_LR_PIXELS, &cancel_requested };
  RefsrIoLoadOptions ref_options = { REFSR_MAX_REF_PIXELS, &cancel_requested };
  gboolean ok = FALSE;

  if (!check_files (args, output, &targets, error))
    {
      g_free (output);
      return FALSE;
    }
  refs = g_new0 (RefsrIoImage, n_refs);
  options.n_threads = args->threads;
  options.cancel = &cancel_requested;
  options.keep_textures = args->dump != NULL;
  options.search = args->search;
  options.n_ref_scales = args->n_ref_scales;
  memcpy (options.ref_scales, args->ref_scales, sizeof options.ref_scales);
  if (!args->quiet && isatty (2))
    {
      options.progress = print_progress;
      options.progress_data = &progress;
    }
  refsr_io_init ();
  if ((model = load_model (args->weights, error)) != NULL
      && refsr_io_load_image (args->inputs[0], &lr_options, &lr, error)
      && load_references (args, &ref_options, refs, error)
      && check_cancel (error))
    {
      progress.start_us = g_get_monotonic_time ();
      result = enlarge (args, model, &lr, refs, n_refs, &options, &canvas,
                        error);
    }
  if (result != NULL)
    ok = write_outputs (args, output, &canvas, &targets, result, error);
  if (!ok)
    end_progress_line (&progress);
  /* with -o -, standard output holds the PNG and nothing else */
  if (ok && !args->quiet && targets.output != NULL)
    {
      char *line = g_strdup_printf ("%s: %d×%d -> %s %d×%d", args->inputs[0],
                                    lr.width, lr.height, output,
                                    lr.width * args->scale,
                                    lr.height * args->scale);
      write_console (stdout, line, TRUE);
      g_free (line);
    }
  refsr_result_free (result);
  refsr_model_free (model);
  canvas_clear (&canvas);
  refsr_io_image_clear (&lr);
  for (int i = 0; i < n_refs; i++)
    refsr_io_image_clear (&refs[i]);
  g_free (refs);
  refsr_io_exit ();
  clear_targets (&targets);
  g_free (output);
  return ok;
}

static gboolean
convert (int argc, char **argv, GError **error)
{
  const char *inputs[] = { argc > 2 ? argv[2] : NULL, NULL };
  RefsrModel *model;
  char *target = NULL;
  gboolean ok;

  if (argc != 4)
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                           "usage: refsr convert IN.pt OUT.safetensors");
      return FALSE;
    }
  if (is_stdout (argv[3]))
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_IO,
                           "cannot write the converted weights to standard "
                           "output: give a file name");
      return FALSE;
    }
  /* loading binds and checks every tensor before anything is written */
  if (!refsr_io_check_input (argv[2], error)
      || !refsr_io_check_output (argv[3], inputs, &target, error)
      || (model = refsr_model_load (argv[2], error)) == NULL)
    {
      g_free (target);
      return FALSE;
    }
  ok = check_cancel (error) && refsr_model_save (model, target, error);
  refsr_model_free (model);
  g_free (target);
  return ok;
}

/* value as a whole number from min to max into *out, or an error saying
 * what the option takes. */
static gboolean
parse_count (const char *option, const char *value, gint64 min, gint64 max,
             const char *takes, int *out, GError **error)
{
  gint64 n;

  if (!g_ascii_string_to_signed (value, 10, min, max, &n, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s takes %s, not '%s'", option, takes, value);
      return FALSE;
    }
  *out = (int) n;
  return TRUE;
}

static gboolean
parse_threads (const char *option, const char *value, gpointer data,
               GError **error)
{
  return parse_count (option, value, 1, G_MAXINT,
                      "a whole number of 1 or more",
                      &((CliArgs *) data)->threads, error);
}

static gboolean
parse_tile (const char *option, const char *value, gpointer data,
            GError **error)
{
  return parse_count (option, value, 0, REFSR_MAX_TILE_SIZE,
                      "a tile size in LR pixels up to "
                      G_STRINGIFY (REFSR_MAX_TILE_SIZE) ", 0 for the whole "
                      "image at once", &((CliArgs *) data)->tile, error);
}

static gboolean
parse_scale (const char *option, const char *value, gpointer data,
             GError **error)
{
  return parse_count (option, value, 2, 4, "2, 3 or 4",
                      &((CliArgs *) data)->scale, error);
}

static gboolean
parse_search (const char *option, const char *value, gpointer data,
              GError **error)
{
  static const char *modes[] = { "auto", "exact", "fast" };
  CliArgs *args = data;

  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    if (strcmp (value, modes[i]) == 0)
      {
        args->search = (RefsrSearch) i;
        return TRUE;
      }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "%s takes auto, exact or fast, not '%s'", option, value);
  return FALSE;
}

/* "auto", or scales such as 1,0.71,0.5: each in (0, 1], none twice, at
 * most REFSR_MAX_REF_SCALES. */
static gboolean
parse_ref_scales (const char *option, const char *value, gpointer data,
                  GError **error)
{
  CliArgs *args = data;
  g_auto (GStrv) parts = g_strsplit (value, ",", -1);
  RefsrOptions check = REFSR_OPTIONS_INIT;
  int n = (int) g_strv_length (parts);

  if (strcmp (value, "auto") == 0)
    {
      args->n_ref_scales = REFSR_REF_SCALES_AUTO;
      return TRUE;
    }
  for (int i = 0; i < MAX (n, 1) && i < REFSR_MAX_REF_SCALES; i++)
    {
      char *end = NULL;
      double scale = n > 0 ? g_ascii_strtod (parts[i], &end) : 0.0;

      if (n == 0 || end == parts[i] || *end != '\0'
          || !(scale > 0.0 && scale <= 1.0))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "%s takes auto or scales in (0, 1] separated by "
                       "commas, such as 1,0.5, not '%s'", option, value);
          return FALSE;
        }
      check.ref_scales[i] = scale;
    }
  check.n_ref_scales = n;
  /* the engine's own checks: a count out of range, a scale twice */
  if (refsr_ref_scales (&check, 1 << 30, 1 << 30, args->ref_scales,
                        error) == 0)
    {
      g_prefix_error (error, "%s: ", option);
      return FALSE;
    }
  args->n_ref_scales = n;
  memcpy (args->ref_scales, check.ref_scales, sizeof args->ref_scales);
  return TRUE;
}

/* A size such as 800M, 2G, 1.5GiB or 3000000000 (bytes). */
static gboolean
parse_max_memory (const char *option, const char *value, gpointer data,
                  GError **error)
{
  static const char *units[] = { "", "K", "M", "G", "T" };
  CliArgs *args = data;
  char *end = NULL;
  double n = g_ascii_strtod (value, &end);
  double factor = 0.0;

  for (int i = 0; end != NULL && end != value && i < 5; i++)
    if (g_ascii_strcasecmp (end, units[i]) == 0
        || (i > 0 && (g_ascii_strncasecmp (end, units[i], 1) == 0
                      && (g_ascii_strcasecmp (end + 1, "B") == 0
                          || g_ascii_strcasecmp (end + 1, "iB") == 0))))
      factor = (double) (G_GUINT64_CONSTANT (1) << (10 * i));
  if (factor == 0.0 || !(n * factor >= 16.0 * 1048576.0)
      || n * factor > 1e18)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s takes a size of 16M or more, such as 800M or 2G, "
                   "not '%s'", option, value);
      return FALSE;
    }
  args->max_memory = (guint64) (n * factor);
  return TRUE;
}

/* The budget without --max-memory: half of the machine's memory, at most
 * 4 GiB (README.md). */
static guint64
default_max_memory (void)
{
  return MIN (refsr_physical_memory () / 2, G_GUINT64_CONSTANT (4) << 30);
}

/* Every check of the command line itself; what needs the file system
 * comes next (check_files), and nothing is loaded before both. */
static gboolean
parse_args (int *argc, char ***argv, CliArgs *args, GError **error)
{
  GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &args->weights,
      "Model weights (.safetensors or TTSR .pt); default: the built-in model",
      "FILE" },
    { "reference", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &args->references,
      "High-resolution reference image (required); give -r again to search "
      "several references as one pool", "REF" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &args->output,
      "Output PNG, or - for standard output (default: LR-x4.png beside LR)",
      "OUT" },
    { "threads", 't', 0, G_OPTION_ARG_CALLBACK, (gpointer) parse_threads,
      "Threads to use, 1 or more (default: one per processor)", "N" },
    { "tile", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) parse_tile,
      "Enlarge in tiles of N LR pixels (up to 1024), 0 for the whole image "
      "at once (images over 1024 pixels a side still go in tiles of 1024; "
      "default: as large as --max-memory allows)", "N" },
    { "max-memory", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) parse_max_memory,
      "Memory the run may use, such as 800M or 2G (default: half of the "
      "memory, at most 4G)", "SIZE" },
    { "scale", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) parse_scale,
      "Enlarge 4×, or 2× or 3× by reducing the 4× result with Pillow's "
      "antialiased bicubic (default: 4)", "N" },
    { "search", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) parse_search,
      "How to find each position's texture: exact (every reference "
      "position, TTSR's way), fast (coarse to fine, near-linear) or auto "
      "(exact while it costs at most 10^12 multiply-adds; the default)",
      "MODE" },
    { "ref-scales", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) parse_ref_scales,
      "Search every reference also reduced by these factors, such as "
      "1,0.5 (each in (0, 1]), or auto: 1, 0.71 and 0.5, for references "
      "shot at up to 2× the zoom of the LR image (the default)", "LIST" },
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &args->dump,
      "Also write S, idx, T_lv3, T_lv2, T_lv1 and sr as safetensors",
      "FILE" },
    { "confidence", 0, 0, G_OPTION_ARG_FILENAME, &args->confidence,
      "Also write the soft-attention map S, the relevance of the texture "
      "used, as a grey PNG of the output's size", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &args->quiet,
      "Print nothing but errors", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->inputs,
      NULL, "LR" },
    { NULL }
  };
  /* GOption prints the LR of the entry above before this text */
  GOptionContext *context = g_option_context_new (
      "— enlarge an image 4× with texture from a reference\n"
      "       refsr convert IN.pt OUT.safetensors");
  GOptionGroup *group = g_option_group_new ("refsr", "", "", args, NULL);
  int n_inputs;
  gboolean ok;

  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  g_option_context_set_summary (context,
      "Reference-based super-resolution (TTSR, Yang et al., CVPR 2020).");
  ok = g_option_context_parse (context, argc, argv, error);
  g_option_context_free (context);
  if (!ok)
    {
      append_to_error (error, "; " USAGE);
      return FALSE;
    }
  n_inputs = args->inputs != NULL ? (int) g_strv_length (args->inputs) : 0;
  if (n_inputs == 0 && args->references == NULL)
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, USAGE);
  else if (n_inputs == 0)
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                         "no LR image given; " USAGE);
  else if (n_inputs > 1)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "one LR image only, but '%s' follows '%s'; " USAGE,
                 args->inputs[1], args->inputs[0]);
  else if (args->references == NULL)
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                         "no reference: -r REF is required; " USAGE);
  else if (g_strv_length (args->references) > MAX_REFERENCES)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "%u references given, at most %d can be searched at once",
                 g_strv_length (args->references), MAX_REFERENCES);
  else
    return TRUE;
  return FALSE;
}

int
main (int argc, char **argv)
{
  CliArgs args = { .tile = -1, .scale = 4,
                   .max_memory = default_max_memory (),
                   .search = REFSR_SEARCH_AUTO,
                   .n_ref_scales = REFSR_REF_SCALES_AUTO };
  GError *error = NULL;
  gboolean ok;

  /* The character set follows the environment, so that texts are written
   * as the terminal expects them (console_text); the messages stay
   * English and numbers keep their '.' (LC_MESSAGES, LC_NUMERIC: C). */
  setlocale (LC_CTYPE, "");
  g_set_print_handler (print_stdout);
  g_set_printerr_handler (print_stderr);
  /* A reader that goes away (refsr -o - ... | head) is a write error,
   * reported like any other, rather than a silent death by SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  catch_interrupts ();
  if (argc >= 2 && strcmp (argv[1], "convert") == 0)
    ok = convert (argc, argv, &error);
  else
    ok = parse_args (&argc, &argv, &args, &error)
         && super_resolve (&args, &error);
  if (!ok)
    print_error (error ? error->message : "failed");
  g_clear_error (&error);
  g_free (args.weights);
  g_strfreev (args.references);
  g_free (args.output);
  g_free (args.dump);
  g_free (args.confidence);
  g_strfreev (args.inputs);
  return ok ? 0 : 1;
}
