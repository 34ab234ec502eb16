/* bytes.h — reading little-endian numbers and half-precision floats from
 * untrusted byte buffers (weights files).  Internal to the engine.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef REFSR_BYTES_H
#define REFSR_BYTES_H

#include <glib.h>
#include <string.h>

static inline guint16
refsr_read_le16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static inline guint32
refsr_read_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16
         | (guint32) p[3] << 24;
}

static inline guint64
refsr_read_le64 (const guint8 *p)
{
  return (guint64) refsr_read_le32 (p) | (guint64) refsr_read_le32 (p + 4) << 32;
}

static inline float
refsr_bits_to_f32 (guint32 bits)
{
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

/* IEEE 754 binary16 → binary32, exact (every half is a float). */
static inline float
refsr_f16_to_f32 (guint16 h)
{
  guint32 sign = (guint32) (h >> 15) << 31, exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;

  if (exp == 0x1f)
    return refsr_bits_to_f32 (sign | 0x7f800000u | (mant << 13));
  if (exp != 0)
    return refsr_bits_to_f32 (sign | ((exp + 112) << 23) | (mant << 13));
  /* zero or subnormal: mant · 2^-24 is exact in float */
  return sign ? -(float) mant * (1.0f / 16777216.0f)
              : (float) mant * (1.0f / 16777216.0f);
}

/* bfloat16 is the upper half of a binary32. */
static inline float
refsr_bf16_to_f32 (guint16 b)
{
  return refsr_bits_to_f32 ((guint32) b << 16);
}

#endif
