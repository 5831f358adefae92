/* SHA-256 (FIPS 180-4), used for weight hashes and data fingerprints. */
#ifndef LATHE_SHA256_H
#define LATHE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct lathe_sha256 {
    uint32_t h[8];
    uint64_t length; /* bytes hashed so far */
    uint8_t block[64];
    size_t used;
} lathe_sha256;

void lathe_sha256_init(lathe_sha256 *ctx);
void lathe_sha256_update(lathe_sha256 *ctx, const void *data, size_t n);
/* Adds v:(n) as little-endian float32 bytes: how every weights hash reads the parameters. */
void lathe_sha256_update_f32le(lathe_sha256 *ctx, const float *v, size_t n);
/* Writes the 32-byte digest. ctx must be re-initialised before reuse. */
void lathe_sha256_final(lathe_sha256 *ctx, uint8_t digest[32]);
/* One-shot: hex[65] receives 64 lowercase hex digits and a NUL. */
void lathe_sha256_hex(const void *data, size_t n, char hex[65]);
/* Hex of a digest: hex[65]. */
void lathe_sha256_to_hex(const uint8_t digest[32], char hex[65]);

#endif
