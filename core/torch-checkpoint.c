/* torch-checkpoint.c — to be written. */
