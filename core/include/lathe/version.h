/* Lathe's version: printed by `lathe --version` and written into every model file. */
#ifndef LATHE_VERSION_H
#define LATHE_VERSION_H

#define LATHE_VERSION "0.1.0"

#endif
