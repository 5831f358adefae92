/* Base64 (RFC 4648, standard alphabet, padded), as the model file stores its tensors. */
#ifndef LATHE_BASE64_H
#define LATHE_BASE64_H

#include <stddef.h>

#include "lathe/status.h"

/* Standard base64 (RFC 4648, with padding) of n bytes into out (4·ceil(n/3) + 1 bytes). */
void lathe_base64_encode(const void *data, size_t n, char *out);
/* Standard base64 (RFC 4648, padded) of exactly n_floats little-endian float32 values into
 * out. Errors name the first bad character or the length found; field prefixes the message. */
lathe_status lathe_base64_decode_floats(const char *text, size_t n_floats, float *out,
                                        const char *field, lathe_error *err);
/* Standard base64 (RFC 4648, padded) of exactly n bytes into out. Errors as above. */
lathe_status lathe_base64_decode(const char *text, size_t n, void *out, const char *field,
                                 lathe_error *err);
/* Characters of the padded base64 of n bytes: 4·ceil(n/3). */
size_t lathe_base64_length(size_t bytes);
/* Checks text is the padded base64 of exactly n bytes (length, alphabet, padding); errors
 * name the first bad character or the length found, prefixed by field. */
lathe_status lathe_base64_check(const char *text, size_t bytes, const char *field,
                               lathe_error *err);

#endif
