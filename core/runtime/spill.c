/* spill.c — tensors mapped from an unlinked temporary file.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "spill.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#include <glib/gstdio.h>

#define MB 1e6

static gsize
page_size (void)
{
  long p = sysconf (_SC_PAGESIZE);

  return p > 0 ? (gsize) p : 4096;
}

static gboolean
on_tmpfs (const char *dir)
{
#ifdef __linux__
  struct statfs fs;

  return statfs (dir, &fs) == 0 && fs.f_type == 0x01021994; /* TMPFS_MAGIC */
#else
  return FALSE;
#endif
}

/* The folder when the caller names none: TMPDIR where it is set, else
 * g_get_tmp_dir () (/tmp), unless that is a tmpfs (as on Debian 13) and
 * /var/tmp, writable, is not: a file on a tmpfs is memory (or swap)
 * itself, which would defeat spilling.  Nothing outlives the process in
 * either, the file having no name. */
static const char *
default_dir (void)
{
  const char *env = g_getenv ("TMPDIR");
  const char *tmp = g_get_tmp_dir ();

  if ((env == NULL || *env == '\0') && on_tmpfs (tmp)
      && access ("/var/tmp", W_OK) == 0 && !on_tmpfs ("/var/tmp"))
    return "/var/tmp";
  return tmp;
}

/* A file in dir that no directory lists: O_TMPFILE where the kernel and
 * the file system have it, else mkstemp and an immediate unlink. */
static int
open_unlinked (const char *dir, int *err)
{
  g_autofree char *template = NULL;
  int fd;

#ifdef O_TMPFILE
  fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
#endif
  template = g_build_filename (dir, "refsr-spill-XXXXXX", NULL);
  fd = g_mkstemp_full (template, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      *err = errno;
      return -1;
    }
  if (g_unlink (template) != 0)
    {
      *err = errno;
      close (fd);
      return -1;
    }
  return fd;
}

/* Reserves the file's blocks, so that a full disk shows now and not as a
 * SIGBUS on a write through the mapping.  A file system without
 * fallocate (glibc then writes a byte per block itself) that still
 * refuses gets a plain ftruncate: sparse, the best it offers. */
static int
reserve (int fd, gsize bytes)
{
  int r;

  if ((guint64) bytes > (guint64) G_MAXINT64)
    return EFBIG;
  r = posix_fallocate (fd, 0, (off_t) bytes);
  if (r == EINVAL || r == EOPNOTSUPP)
    r = ftruncate (fd, (off_t) bytes) == 0 ? 0 : errno;
  return r;
}

static void
set_spill_error (GError **error, const char *dir, gsize bytes, int err)
{
  struct statvfs fs;
  g_autofree char *room = NULL;

  if (statvfs (dir, &fs) == 0)
    room = g_strdup_printf (", %.0f MB free there",
                            (double) fs.f_bavail * fs.f_frsize / MB);
  g_set_error (error, REFSR_ERROR, REFSR_ERROR_IO,
               "Could not keep %.*f MB of data in a temporary file in "
               "'%s' (%s%s): set TMPDIR to a writable folder with more "
               "room or raise the memory budget", bytes < 10 * MB ? 1 : 0,
               (double) bytes / MB, dir, g_strerror (err),
               room != NULL ? room : "");
}

gboolean
refsr_spill_alloc (RefsrTensor *const *tensors, gsize n, const char *dir,
                   GError **error)
{
  gsize page = page_size ();
  gsize total = 0, offset = 0, done = 0;
  int fd, err = 0;

  if (dir == NULL)
    dir = default_dir ();
  for (gsize i = 0; i < n; i++)
    {
      const RefsrTensor *t = tensors[i];
      gsize limit = G_MAXSIZE / 4 / sizeof (float);

      if (t->c <= 0 || t->h <= 0 || t->w <= 0 || t->data != NULL)
        {
          g_set_error (error, REFSR_ERROR, REFSR_ERROR_INVALID_INPUT,
                       "Invalid feature map size %d×%d×%d", t->c, t->h,
                       t->w);
          return FALSE;
        }
      /* c·h cannot overflow 64 bits; the sum stays below half a size */
      if ((guint64) t->w > limit / ((guint64) t->c * (guint64) t->h)
          || total > G_MAXSIZE / 4)
        {
          set_spill_error (error, dir, G_MAXSIZE, EFBIG);
          return FALSE;
        }
      total += (refsr_tensor_numel (t) * sizeof (float) + page - 1) / page
               * page;
    }
  if ((fd = open_unlinked (dir, &err)) < 0
      || (err = reserve (fd, total)) != 0)
    {
      if (fd >= 0)
        close (fd);
      set_spill_error (error, dir, total, err);
      return FALSE;
    }
  for (; done < n; done++)
    {
      RefsrTensor *t = tensors[done];
      gsize bytes = (refsr_tensor_numel (t) * sizeof (float) + page - 1)
                    / page * page;
      void *p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      (off_t) offset);

      if (p == MAP_FAILED)
        {
          err = errno;
          break;
        }
      t->data = p;
      t->mapped = bytes;
      offset += bytes;
    }
  /* the mappings keep the file; it goes with the last of them */
  close (fd);
  if (done < n)
    {
      for (gsize i = 0; i < done; i++)
        {
          refsr_spill_unmap (tensors[i]->data, tensors[i]->mapped);
          tensors[i]->data = NULL;
          tensors[i]->mapped = 0;
        }
      set_spill_error (error, dir, total, err);
      return FALSE;
    }
  return TRUE;
}

/* On a shared file mapping MADV_DONTNEED drops the page table entries
 * only; dirty pages pass their state to the page cache, which writes
 * them to the file before it ever drops them. */
void
refsr_tensor_release_pages (const RefsrTensor *t)
{
  if (t->mapped > 0)
    madvise (t->data, t->mapped, MADV_DONTNEED);
}

void
refsr_tensor_release_range (const RefsrTensor *t, gsize first, gsize n)
{
  gsize page = page_size ();
  guintptr start, end;

  if (t->mapped == 0 || n == 0)
    return;
  start = ((guintptr) (t->data + first) + page - 1) / page * page;
  end = (guintptr) (t->data + first + n) / page * page;
  if (start < end)
    madvise ((void *) start, end - start, MADV_DONTNEED);
}

void
refsr_spill_unmap (float *data, gsize mapped_bytes)
{
  if (data != NULL && munmap (data, mapped_bytes) != 0)
    g_critical ("munmap of %" G_GSIZE_FORMAT " bytes failed: %s",
                mapped_bytes, g_strerror (errno));
}
