/* search.c — to be written. */
