/* pickle.c — to be written. */
