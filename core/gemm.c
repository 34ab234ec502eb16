/* gemm.c — to be written. */
