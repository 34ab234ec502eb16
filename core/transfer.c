/* transfer.c — to be written. */
