/* resample-pil.c — to be written. */
