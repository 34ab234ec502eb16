/* resample-torch.c — to be written. */
