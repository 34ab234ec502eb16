/* fixture.h — access to the TTSR parity fixtures for the tests. */
#ifndef REFSR_TEST_FIXTURE_H
#define REFSR_TEST_FIXTURE_H

#include "safetensors.h"
#include "tensor.h"

typedef struct
{
  char *path;
  GMappedFile *mapped;
  RefsrSafetensorsIndex *index;
  GSList *aligned_copies;
} Fixture;

/* Full path of a file in the fixtures folder (env REFSR_FIXTURES, set by
 * meson).  g_free the result. */
char *fixture_path (const char *file);
/* Opens a fixture safetensors file by its file name; aborts the test with a
 * clear message if it cannot. */
Fixture *fixture_open (const char *file);
void fixture_close (Fixture *f);

/* The raw entry, asserting it exists and has the given dtype. */
const RefsrSafetensorsItem *fixture_item (Fixture *f, const char *name,
                                          const char *dtype);
/* A copy of an F32 entry of shape [1,C,H,W] (or [C,H,W], [H,W]) as a
 * tensor; free with refsr_tensor_clear. */
void fixture_tensor (Fixture *f, const char *name, RefsrTensor *out);
const char *fixture_meta (Fixture *f, const char *key);

/* Largest |a - b| over n floats, optionally only where mask[i] != 0. */
double max_abs_diff (const float *a, const float *b, gsize n,
                     const guint8 *mask);

/* An HxWx3 U8 entry (lr_u8, ref_u8) as an engine image; it points into
 * the fixture, which must stay open. */
RefsrImage fixture_rgb (Fixture *f, const char *name);

/* A fixture weights file loaded as a model. */
RefsrModel *fixture_model (const char *weights_file);

#endif
