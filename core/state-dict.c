/* state-dict.c — to be written. */
