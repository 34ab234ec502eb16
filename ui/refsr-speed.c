/* refsr-speed.c — see refsr-speed.h.  The rates live in refsr-speed.ini
 * in GIMP's profile folder, one group per machine: a profile may follow
 * its user from computer to computer, and a rate only says something
 * about the processor and the threads it was measured with.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <libgimp/gimp.h>
#include <string.h>

#include "refsr-speed.h"
#include "refsr-speed-store.h"

#define SPEED_FILE "refsr-speed.ini"

/* Shorter runs are mostly start-up and say little about the throughput. */
#define MIN_SECONDS 0.2

static char *
speed_path (void)
{
  return g_build_filename (gimp_directory (), SPEED_FILE, NULL);
}

/* The processor's model name, else the host's name. */
static char *
cpu_name (void)
{
  char *info = NULL, *name = NULL;

  if (g_file_get_contents ("/proc/cpuinfo", &info, NULL, NULL))
    {
      char **lines = g_strsplit (info, "\n", -1);

      for (int i = 0; lines[i] != NULL && name == NULL; i++)
        if (g_str_has_prefix (lines[i], "model name"))
          {
            char *colon = strchr (lines[i], ':');

            if (colon != NULL)
              name = g_strstrip (g_strdup (colon + 1));
          }
      g_strfreev (lines);
      g_free (info);
    }
  return name != NULL && *name != '\0' ? name
         : (g_free (name), g_strdup (g_get_host_name ()));
}

/* The group of this machine: its processor and the threads a run uses
 * (the plug-in runs on every processor GIMP is told of). */
static char *
machine_key (void)
{
  char *cpu = cpu_name ();
  char *key = g_strdup_printf ("%s, %d threads", cpu,
                               MAX (gimp_get_num_processors (), 1));

  /* '[' and ']' would end a group's name early */
  g_strdelimit (key, "[]", '_');
  g_free (cpu);
  return key;
}

static GKeyFile *
load_store (void)
{
  GKeyFile *file = g_key_file_new ();
  char *path = speed_path ();

  /* a missing or broken file is no rate measured yet */
  g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL);
  g_free (path);
  return file;
}

gboolean
refsr_speed_get_range (double *rate, double *slowest, double *fastest)
{
  GKeyFile *file = load_store ();
  char *machine = machine_key ();
  gboolean known = refsr_speed_store_get (file, machine, rate, slowest,
                                          fastest);

  g_free (machine);
  g_key_file_free (file);
  return known;
}

double
refsr_speed_get (void)
{
  double rate = 0.0;

  refsr_speed_get_range (&rate, NULL, NULL);
  return rate;
}

void
refsr_speed_record (double flops, double seconds)
{
  GKeyFile *file;
  char *machine, *path;

  if (!(flops > 0.0) || !(seconds >= MIN_SECONDS))
    return;
  file = load_store ();
  machine = machine_key ();
  path = speed_path ();
  refsr_speed_store_add (file, machine, flops / seconds);
  /* losing a measurement costs only a less accurate estimate */
  g_key_file_save_to_file (file, path, NULL);
  g_free (path);
  g_free (machine);
  g_key_file_free (file);
}
