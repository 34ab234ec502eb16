/* file-check.c — checks made before any work: that an input is a file
 * that can be read, and that an output can be written without destroying
 * anything (an input, a device node, a folder).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "image-io.h"
#include "imageio-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What an existing file that is not a regular file is, for messages. */
static const char *
kind_of (mode_t mode)
{
  if (S_ISDIR (mode))
    return "it is a folder";
  if (S_ISCHR (mode))
    return "it is a character device, not a regular file";
  if (S_ISBLK (mode))
    return "it is a block device, not a regular file";
  if (S_ISFIFO (mode))
    return "it is a FIFO (named pipe), not a regular file";
  if (S_ISSOCK (mode))
    return "it is a socket, not a regular file";
  return "it is not a regular file";
}

static gboolean
same_inode (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

gboolean
refsr_io_check_input (const char *path, GError **error)
{
  struct stat st;
  const char *reason = NULL;

  if (*path == '\0')
    reason = "the name is empty";
  else if (stat (path, &st) != 0)
    reason = errno == ENOENT || errno == ENOTDIR ? "no such file"
                                                : g_strerror (errno);
  else if (!S_ISREG (st.st_mode))
    reason = kind_of (st.st_mode);
  else if (access (path, R_OK) != 0)
    reason = g_strerror (errno);
  if (reason != NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO, "cannot read '%s': %s",
                 path, reason);
  return reason == NULL;
}

static gboolean
refuse_output (GError **error, const char *path, const char *reason)
{
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO, "cannot write '%s': %s",
               path, reason);
  return FALSE;
}

char *
refsr_io_resolve_output (const char *path, struct stat *existing,
                         gboolean *exists, GError **error)
{
  struct stat st;
  char *target = NULL, *real, *reason = NULL;

  *exists = FALSE;
  if (*path == '\0')
    reason = g_strdup ("the name is empty");
  else if (g_str_has_suffix (path, G_DIR_SEPARATOR_S))
    reason = g_strdup ("the name ends in '/'; give a file name");
  else if (lstat (path, &st) != 0)
    {
      /* a new file, or a missing folder, which the caller checks */
      if (errno == ENOENT || errno == ENOTDIR)
        return g_strdup (path);
      reason = g_strdup (g_strerror (errno));
    }
  /* A symbolic link is followed: it is kept, and the file it points to,
   * which is what the user named, is replaced.  A link to nothing would
   * be replaced itself. */
  else if (S_ISLNK (st.st_mode) && stat (path, &st) != 0)
    reason = g_strdup (errno == ENOENT ? "it is a symbolic link to nothing"
                                       : g_strerror (errno));
  else if (!S_ISREG (st.st_mode))
    reason = g_strdup (kind_of (st.st_mode));
  else if ((real = realpath (path, NULL)) == NULL)
    reason = g_strdup (g_strerror (errno));
  else
    {
      target = g_strdup (real);
      free (real);
      /* Replacing goes through the folder, not the file, so a read-only
       * file could be replaced; its protection is respected instead. */
      if (access (target, W_OK) != 0)
        reason = g_strdup_printf ("it may not be changed (%s)",
                                  g_strerror (errno));
    }
  if (reason != NULL)
    {
      refuse_output (error, path, reason);
      g_free (reason);
      g_free (target);
      return NULL;
    }
  if (existing != NULL)
    *existing = st;
  *exists = TRUE;
  return target;
}

/* The folder an output goes to must exist and take new files: a
 * temporary file named like the one the writer makes is created there and
 * removed, which also catches a name too long for that temporary name and
 * folders (a read-only mount, /proc) that permissions alone do not
 * describe.  replaced: the file that will be replaced, NULL if none. */
static gboolean
check_folder (const char *path, const char *target,
              const struct stat *replaced, GError **error)
{
  char *dir = g_path_get_dirname (target);
  char *tmp = g_strdup_printf ("%s.XXXXXX", target);
  char *reason = NULL;
  struct stat st;
  int fd;

  if (stat (dir, &st) != 0)
    reason = errno == ENOENT || errno == ENOTDIR
             ? g_strdup_printf ("no such folder '%s'", dir)
             : g_strdup_printf ("cannot use the folder '%s': %s", dir,
                                g_strerror (errno));
  else if (!S_ISDIR (st.st_mode))
    reason = g_strdup_printf ("'%s' is not a folder", dir);
  else if (replaced != NULL && (st.st_mode & S_ISVTX) && geteuid () != 0
           && st.st_uid != geteuid () && replaced->st_uid != geteuid ())
    /* in a sticky folder (/tmp) only the owner may replace a file */
    reason = g_strdup_printf ("it belongs to another user, in the folder "
                              "'%s' where only a file's owner may replace "
                              "it", dir);
  else if ((fd = g_mkstemp_full (tmp, O_WRONLY, 0600)) < 0)
    reason = g_strdup_printf ("cannot create files in the folder '%s': %s",
                              dir, g_strerror (errno));
  else
    {
      close (fd);
      g_unlink (tmp);
    }
  if (reason != NULL)
    refuse_output (error, path, reason);
  g_free (reason);
  g_free (tmp);
  g_free (dir);
  return reason == NULL;
}

/* An output that exists already and is the same file as an input (by
 * device and inode, so through symbolic and hard links) would destroy it.
 * A path that does not exist yet cannot be an input. */
static const char *
input_at (const struct stat *st, const char *const *inputs)
{
  struct stat in;

  for (int i = 0; inputs != NULL && inputs[i] != NULL; i++)
    if (stat (inputs[i], &in) == 0 && same_inode (st, &in))
      return inputs[i];
  return NULL;
}

gboolean
refsr_io_check_output (const char *path, const char *const *inputs,
                       char **target, GError **error)
{
  struct stat st;
  gboolean exists;
  char *resolved = refsr_io_resolve_output (path, &st, &exists, error);
  const char *input;

  if (resolved == NULL)
    return FALSE;
  if (exists && (input = input_at (&st, inputs)) != NULL)
    {
      char *reason = g_strdup_printf ("it is the same file as the input '%s'",
                                      input);
      refuse_output (error, path, reason);
      g_free (reason);
      g_free (resolved);
      return FALSE;
    }
  if (!check_folder (path, resolved, exists ? &st : NULL, error))
    {
      g_free (resolved);
      return FALSE;
    }
  if (target != NULL)
    *target = resolved;
  else
    g_free (resolved);
  return TRUE;
}

gboolean
refsr_io_check_output_fd (int fd, const char *name,
                          const char *const *inputs, GError **error)
{
  struct stat st;
  const char *input;

  if (fstat (fd, &st) != 0)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                 "cannot write to %s: %s", name, g_strerror (errno));
  else if (isatty (fd))
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                 "cannot write to %s: it is a terminal; redirect it to a "
                 "file or a pipe", name);
  else if (S_ISREG (st.st_mode) && (input = input_at (&st, inputs)) != NULL)
    g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
                 "cannot write to %s: it is the same file as the input '%s'",
                 name, input);
  else
    return TRUE;
  return FALSE;
}

/* path made absolute with every symbolic link resolved; for a file that
 * does not exist yet, its folder's resolved path and its name. */
static char *
canonical_path (const char *path)
{
  char *real = realpath (path, NULL);
  char *dir, *base, *result;

  if (real != NULL)
    {
      result = g_strdup (real);
      free (real);
      return result;
    }
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  real = realpath (dir, NULL);
  result = real != NULL ? g_build_filename (real, base, NULL)
                        : g_canonicalize_filename (path, NULL);
  free (real);
  g_free (dir);
  g_free (base);
  return result;
}

gboolean
refsr_io_same_file (const char *a, const char *b)
{
  struct stat sa, sb;
  char *ca, *cb;
  gboolean same;

  if (stat (a, &sa) == 0 && stat (b, &sb) == 0)
    return same_inode (&sa, &sb);
  ca = canonical_path (a);
  cb = canonical_path (b);
  same = strcmp (ca, cb) == 0;
  g_free (ca);
  g_free (cb);
  return same;
}

gboolean
refsr_io_same_file_fd (int fd, const char *path)
{
  struct stat sf, sp;

  return fstat (fd, &sf) == 0 && stat (path, &sp) == 0
         && same_inode (&sf, &sp);
}
