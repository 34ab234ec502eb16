/* engine.c — to be written. */
