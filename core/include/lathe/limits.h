/* The largest things Lathe accepts, checked before anything is allocated for them, each with
 * an error that gives the numbers. docs/limits.md lists them for users. They keep every size
 * computation inside 32 bits (the wasm build's size_t) and a trainer inside the browser's
 * memory. */
#ifndef LATHE_LIMITS_H
#define LATHE_LIMITS_H

#include <stdint.h>

#define LATHE_LIMIT_PARAMETERS 67108864u        /* 64 Mi parameters (256 MiB of float32) */
#define LATHE_LIMIT_ACTIVATIONS 268435456u      /* floats of one batch's layer outputs */
#define LATHE_LIMIT_TRAINER_BYTES 1610612736u   /* 1.5 GiB: all a trainer allocates */
#define LATHE_LIMIT_LAYER_WIDTH 16777216u       /* values per sample at any layer */

#endif
