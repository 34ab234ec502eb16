/* refsr-reference.c — see refsr-reference.h.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "refsr-config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "refsr-reference.h"

/* Words of an image's name that say it holds a reference: people name a
 * sharp shot of the scene "reference", "ref", "sharp", "HR" (high
 * resolution), "tele" (the telephoto frame) or "detail". */
static const char *const reference_words[] = {
  "ref", "refs", "reference", "references", "sharp", "sharper", "hr",
  "tele", "telephoto", "detail", "details"
};

static gboolean
is_reference_word (const char *word)
{
  for (gsize i = 0; i < G_N_ELEMENTS (reference_words); i++)
    if (strcmp (word, reference_words[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Words are runs of letters, so "photo_HR.png", "ref2.jpg" and
 * "Tele detail" match while "three" or "hrefs" do not. */
static gboolean
name_suggests_reference (const char *name)
{
  char *lower = g_utf8_strdown (name != NULL ? name : "", -1);
  gboolean found = FALSE;
  char *word = NULL;

  for (char *p = lower; !found; p++)
    {
      gboolean letter = *p != '\0' && g_ascii_isalpha (*p);

      if (letter && word == NULL)
        word = p;
      else if (!letter && word != NULL)
        {
          char end = *p;

          *p = '\0';
          found = is_reference_word (word);
          *p = end;
          word = NULL;
        }
      if (*p == '\0')
        break;
    }
  g_free (lower);
  return found;
}

static gint64
pixels_of (GimpLayer *layer)
{
  GimpDrawable *drawable = GIMP_DRAWABLE (layer);

  return (gint64) gimp_drawable_get_width (drawable)
         * gimp_drawable_get_height (drawable);
}

/* The largest layer among layers and the layers inside their groups,
 * other than skip; groups themselves are no reference (their pixels are
 * their children's).  Ties go to the upper layer. */
static GimpLayer *
largest_layer (GimpLayer **layers, GimpLayer *skip, GimpLayer *best)
{
  for (int i = 0; layers != NULL && layers[i] != NULL; i++)
    {
      GimpItem *item = GIMP_ITEM (layers[i]);

      if (gimp_item_is_group (item))
        {
          GimpItem **children = gimp_item_get_children (item);

          best = largest_layer ((GimpLayer **) children, skip, best);
          g_free (children);
        }
      else if (layers[i] != skip
               && (best == NULL || pixels_of (layers[i]) > pixels_of (best)))
        best = layers[i];
    }
  return best;
}

static GimpLayer *
largest_in_image (GimpImage *image, GimpLayer *skip)
{
  GimpLayer **layers = gimp_image_get_layers (image);
  GimpLayer *best = largest_layer (layers, skip, NULL);

  g_free (layers);
  return best;
}

char *
refsr_image_short_name (GimpImage *image)
{
  GFile *file = gimp_image_get_file (image);
  char *name;

  if (file == NULL)
    file = gimp_image_get_imported_file (image);
  name = file != NULL ? g_file_get_basename (file)
                      : gimp_image_get_name (image);
  g_clear_object (&file);
  return name;
}

/* The largest layer of the other open images whose names suggest a
 * reference; *from receives its image. */
static GimpLayer *
largest_in_reference_images (GimpImage *own, GimpImage **from)
{
  GimpImage **images = gimp_get_images ();
  GimpLayer *best = NULL;

  for (int i = 0; images != NULL && images[i] != NULL; i++)
    {
      char *name = images[i] == own ? NULL
                                    : refsr_image_short_name (images[i]);
      GimpLayer *layer = name_suggests_reference (name)
                         ? largest_in_image (images[i], NULL) : NULL;

      if (layer != NULL
          && (best == NULL || pixels_of (layer) > pixels_of (best)))
        {
          best = layer;
          *from = images[i];
        }
      g_free (name);
    }
  g_free (images);
  return best;
}

GimpLayer *
refsr_default_reference (GimpDrawable *target, char **why)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (target));
  GimpImage *other = NULL;
  GimpLayer *layer = GIMP_IS_LAYER (target)
                     ? largest_in_image (image, GIMP_LAYER (target)) : NULL;
  char *name, *image_name;

  if (layer == NULL)
    layer = largest_in_reference_images (image, &other);
  if (why == NULL)
    return layer;
  if (layer == NULL)
    {
      *why = g_strdup (_("No other layer can serve as the reference, so "
                         "the layer is proposed as its own reference."));
      return NULL;
    }
  name = gimp_item_get_name (GIMP_ITEM (layer));
  if (other == NULL)
    *why = g_strdup_printf (_("Proposed reference: “%s”, the largest other "
                              "layer of this image."), name);
  else
    {
      image_name = refsr_image_short_name (other);
      *why = g_strdup_printf (_("Proposed reference: “%s” of the image "
                                "“%s”, whose name suggests a reference."),
                              name, image_name);
      g_free (image_name);
    }
  g_free (name);
  return layer;
}
