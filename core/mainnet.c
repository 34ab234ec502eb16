/* mainnet.c — to be written. */
