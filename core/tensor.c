/* tensor.c — to be written. */
