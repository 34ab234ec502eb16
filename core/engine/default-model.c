/* default-model.c — finding the built-in model, one lookup for the command
 * and the plug-in (the order is documented at refsr_default_model_path in
 * refsr.h).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"
#include "refsr.h"

/* The running program's folder, or NULL where /proc is not mounted. */
static char *
program_dir (void)
{
  char *exe = g_file_read_link ("/proc/self/exe", NULL);
  char *dir = exe != NULL ? g_path_get_dirname (exe) : NULL;

  g_free (exe);
  return dir;
}

/* A program of this build folder finds the model of the source tree, so
 * tests and the quick start work before anything is installed. */
static gboolean
runs_from_build_tree (const char *dir)
{
  return dir != NULL && g_str_has_prefix (dir, REFSR_BUILD_ROOT "/");
}

static GPtrArray *
candidate_paths (void)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  char *dir = program_dir ();

  if (dir != NULL)
    g_ptr_array_add (paths, g_build_filename (dir, REFSR_DEFAULT_MODEL_NAME,
                                              NULL));
  if (runs_from_build_tree (dir))
    g_ptr_array_add (paths, g_build_filename (REFSR_SOURCE_ROOT, "data",
                                              REFSR_DEFAULT_MODEL_NAME,
                                              NULL));
  g_ptr_array_add (paths, g_build_filename (REFSR_DATADIR,
                                            REFSR_DEFAULT_MODEL_NAME, NULL));
  if (dir != NULL)
    g_ptr_array_add (paths, g_build_filename (dir, "..", "share", "refsr",
                                              REFSR_DEFAULT_MODEL_NAME,
                                              NULL));
  g_free (dir);
  return paths;
}

static char *
path_from_environment (const char *env, GError **error)
{
  if (env[0] == '\0')
    {
      g_set_error_literal (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                           "no built-in model: REFSR_WEIGHTS is set but "
                           "empty");
      return NULL;
    }
  if (!g_file_test (env, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "REFSR_WEIGHTS names '%s', which does not exist", env);
      return NULL;
    }
  return g_strdup (env);
}

char *
refsr_default_model_path (GError **error)
{
  const char *env = g_getenv ("REFSR_WEIGHTS");
  GPtrArray *paths;
  char *found = NULL, *looked;

  if (env != NULL)
    return path_from_environment (env, error);
  paths = candidate_paths ();
  for (guint i = 0; i < paths->len && found == NULL; i++)
    if (g_file_test (g_ptr_array_index (paths, i), G_FILE_TEST_IS_REGULAR))
      found = g_strdup (g_ptr_array_index (paths, i));
  if (found == NULL)
    {
      g_ptr_array_add (paths, NULL);
      looked = g_strjoinv (", ", (char **) paths->pdata);
      g_set_error (error, REFSR_ERROR, REFSR_ERROR_WEIGHTS,
                   "no built-in model: none of %s exists",
                   looked);
      g_free (looked);
    }
  g_ptr_array_unref (paths);
  return found;
}

RefsrModel *
refsr_model_load_default (GError **error)
{
  char *path = refsr_default_model_path (error);
  RefsrModel *model = path != NULL ? refsr_model_load (path, error) : NULL;

  g_free (path);
  return model;
}
