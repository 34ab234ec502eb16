/* layers.c — to be written. */
