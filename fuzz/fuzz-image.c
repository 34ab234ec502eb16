/* fuzz-image.c — libFuzzer target: the image reader (PNG, JPEG, TIFF, as
 * told by the first bytes) on arbitrary bytes, with a 1-megapixel limit.
 * Besides what the sanitizers catch, it checks the reader's contract: on
 * success an image within the limit, on failure an error and no image.
 *
 * Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image-io.h"

#define MAX_PIXELS (1 << 20)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  RefsrIoLoadOptions options = { MAX_PIXELS, NULL };
  RefsrIoImage image;
  GError *error = NULL;

  if (refsr_io_load_image_from_data (data, size, "fuzz", &options, &image,
                                     &error))
    {
      if (error != NULL || image.pixels == NULL || image.width < 1
          || image.height < 1 || (gint64) image.width * image.height > MAX_PIXELS)
        abort ();
      /* every byte of the result is read: an uninitialised one would
       * show under MemorySanitizer, a short buffer under ASan */
      volatile guint8 sum = 0;
      for (gsize i = 0; i < (gsize) image.width * image.height * 3; i++)
        sum += image.pixels[i];
      refsr_io_image_clear (&image);
    }
  else if (error == NULL || image.pixels != NULL || error->domain != REFSR_ERROR)
    abort ();
  g_clear_error (&error);
  return 0;
}
