/* conv2d.c — to be written. */
