/* test-speed-store.c — the measured speeds' store: the newest rates kept,
 * their weighted average and their spread.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <math.h>

#include "refsr-speed-store.h"

static void
test_empty (void)
{
  GKeyFile *file = g_key_file_new ();
  double rate = 1, lo = 1, hi = 1;

  g_assert_false (refsr_speed_store_get (file, "cpu", &rate, &lo, &hi));
  g_assert_cmpfloat (rate, ==, 0.0);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, ==, 0.0);
  g_key_file_free (file);
}

static void
test_newest_weigh_most (void)
{
  GKeyFile *file = g_key_file_new ();
  double rate, lo, hi;

  refsr_speed_store_add (file, "cpu", 10e9);
  refsr_speed_store_add (file, "cpu", 40e9);
  g_assert_true (refsr_speed_store_get (file, "cpu", &rate, &lo, &hi));
  /* (1 × 10 + 2 × 40) / 3 */
  g_assert_cmpfloat_with_epsilon (rate, 30e9, 1e3);
  g_assert_cmpfloat (lo, ==, 10e9);
  g_assert_cmpfloat (hi, ==, 40e9);
  g_assert_false (refsr_speed_store_get (file, "other", NULL, NULL, NULL));
  g_key_file_free (file);
}

static void
test_keeps_newest (void)
{
  GKeyFile *file = g_key_file_new ();
  double rate, lo, hi;

  refsr_speed_store_add (file, "cpu", 1e9);
  for (int i = 0; i < REFSR_SPEED_KEEP; i++)
    refsr_speed_store_add (file, "cpu", 5e9);
  g_assert_true (refsr_speed_store_get (file, "cpu", &rate, &lo, &hi));
  g_assert_cmpfloat (lo, ==, 5e9);
  g_assert_cmpfloat_with_epsilon (rate, 5e9, 1e3);
  g_key_file_free (file);
}

static void
test_ignores_nonsense (void)
{
  GKeyFile *file = g_key_file_new ();
  double rate;

  refsr_speed_store_add (file, "cpu", 0.0);
  refsr_speed_store_add (file, "cpu", -3.0);
  refsr_speed_store_add (file, "cpu", NAN);
  refsr_speed_store_add (file, "cpu", INFINITY);
  g_assert_false (refsr_speed_store_get (file, "cpu", &rate, NULL, NULL));
  g_key_file_set_string (file, "cpu", "rates", "-1;abc;");
  g_assert_false (refsr_speed_store_get (file, "cpu", &rate, NULL, NULL));
  g_key_file_set_string (file, "cpu", "rates", "-1;2e9;");
  g_assert_true (refsr_speed_store_get (file, "cpu", &rate, NULL, NULL));
  g_assert_cmpfloat (rate, ==, 2e9);
  g_key_file_free (file);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/speed-store/empty", test_empty);
  g_test_add_func ("/speed-store/newest-weigh-most", test_newest_weigh_most);
  g_test_add_func ("/speed-store/keeps-newest", test_keeps_newest);
  g_test_add_func ("/speed-store/ignores-nonsense", test_ignores_nonsense);
  return g_test_run ();
}
