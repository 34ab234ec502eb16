/* lte.c — to be written. */
