/* orientation.c — EXIF orientation: a small parser that finds the
 * Orientation tag (0x0112) in the first directory of TIFF-structured EXIF
 * data, and the eight ways of turning a packed RGB image upright, as
 * GIMP's import does (orientation 6: rotated 90° clockwise, 5: mirrored
 * along the main diagonal, ...).
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "load-private.h"

#include <string.h>

static guint
get16 (const guint8 *p, gboolean big_endian)
{
  return big_endian ? (guint) p[0] << 8 | p[1] : (guint) p[1] << 8 | p[0];
}

static guint32
get32 (const guint8 *p, gboolean big_endian)
{
  return big_endian
         ? (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3]
         : (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

int
refsr_io_exif_orientation (const guint8 *exif, gsize size)
{
  gboolean big_endian;
  guint32 ifd;
  guint n;

  if (exif == NULL)
    return 1;
  /* JPEG's APP1 and some PNG eXIf chunks start with the APP1 signature */
  if (size >= 6 && memcmp (exif, "Exif\0\0", 6) == 0)
    {
      exif += 6;
      size -= 6;
    }
  if (size < 8)
    return 1;
  if (memcmp (exif, "MM\0*", 4) == 0)
    big_endian = TRUE;
  else if (memcmp (exif, "II*\0", 4) == 0)
    big_endian = FALSE;
  else
    return 1;
  ifd = get32 (exif + 4, big_endian);
  if (ifd < 8 || ifd > size - 2)
    return 1;
  n = get16 (exif + ifd, big_endian);
  /* each entry is 12 bytes; stop at the end of the data */
  for (guint i = 0; i < n && (gsize) ifd + 2 + 12 * (i + 1) <= size; i++)
    {
      const guint8 *entry = exif + ifd + 2 + 12 * i;
      guint type = get16 (entry + 2, big_endian);
      guint value;

      if (get16 (entry, big_endian) != 0x0112)
        continue;
      if (get32 (entry + 4, big_endian) != 1)
        return 1;
      if (type == 3)          /* SHORT, as the standard has it */
        value = get16 (entry + 8, big_endian);
      else if (type == 4)     /* LONG, written by a few programs */
        value = get32 (entry + 8, big_endian);
      else
        return 1;
      return value >= 1 && value <= 8 ? (int) value : 1;
    }
  return 1;
}

void
refsr_io_oriented_size (int orientation, int width, int height,
                        int *out_width, int *out_height)
{
  gboolean swap = orientation >= 5 && orientation <= 8;

  *out_width = swap ? height : width;
  *out_height = swap ? width : height;
}

/* Where source pixel (0, y) goes in dst, and how far apart (in bytes)
 * the destinations of consecutive source pixels of that row are.  The
 * mapping of source (x, y) in a w × h image to the upright image:
 *   1 (x, y)        2 (w-1-x, y)        3 (w-1-x, h-1-y)    4 (x, h-1-y)
 *   5 (y, x)        6 (h-1-y, x)        7 (h-1-y, w-1-x)    8 (y, w-1-x)
 * (for 5–8 the upright image is h wide). */
static void
row_mapping (int orientation, gsize w, gsize h, gsize y, gsize *start,
             gssize *step)
{
  switch (orientation)
    {
    case 2:
      *start = (y * w + w - 1) * 3;
      *step = -3;
      break;
    case 3:
      *start = ((h - 1 - y) * w + w - 1) * 3;
      *step = -3;
      break;
    case 4:
      *start = (h - 1 - y) * w * 3;
      *step = 3;
      break;
    case 5:
      *start = y * 3;
      *step = (gssize) h * 3;
      break;
    case 6:
      *start = (h - 1 - y) * 3;
      *step = (gssize) h * 3;
      break;
    case 7:
      *start = ((w - 1) * h + h - 1 - y) * 3;
      *step = -(gssize) h * 3;
      break;
    case 8:
      *start = ((w - 1) * h + y) * 3;
      *step = -(gssize) h * 3;
      break;
    default:
      *start = y * w * 3;
      *step = 3;
      break;
    }
}

void
refsr_io_orient (const guint8 *src, int width, int height, int orientation,
                 guint8 *dst)
{
  for (int y = 0; y < height; y++)
    {
      const guint8 *s = src + (gsize) y * width * 3;
      gsize start;
      gssize step, at;

      row_mapping (orientation, width, height, y, &start, &step);
      at = (gssize) start;
      /* offsets, not pointers: the one after the last pixel may lie
       * before dst */
      for (int x = 0; x < width; x++, s += 3, at += step)
        memcpy (dst + at, s, 3);
    }
}
