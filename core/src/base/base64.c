/* Standard base64 (RFC 4648, padded): the model file's tensors as little-endian float32. */
#include "lathe/base64.h"

#include <stdint.h>
#include <string.h>

void lathe_base64_encode(const void *data, size_t n, char *out) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = data;
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18], out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63], out[o++] = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0u);
        out[o++] = alphabet[v >> 18], out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

static int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

size_t lathe_base64_length(size_t bytes) { return (bytes + 2) / 3 * 4; }

lathe_status lathe_base64_check(const char *text, size_t bytes, const char *field,
                               lathe_error *err) {
    size_t len = strlen(text), i, pad = bytes % 3 ? 3 - bytes % 3 : 0;
    if (len != lathe_base64_length(bytes)) {
        size_t have = len / 4 * 3;
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s: %zu base64 characters hold about %zu floats, expected %zu "
                               "(%zu characters)",
                               field, len, have / 4, bytes / 4, lathe_base64_length(bytes));
    }
    for (i = 0; i < len; i++) {
        int padding = i >= len - pad;
        if (padding ? text[i] != '=' : base64_value(text[i]) < 0)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%s: character %zu ('%c') is not %s", field, i + 1,
                                   (unsigned char)text[i] >= 32 && (unsigned char)text[i] < 127
                                       ? text[i]
                                       : '?',
                                   padding ? "the padding '=' expected there" : "base64");
    }
    return LATHE_OK;
}

lathe_status lathe_base64_decode(const char *text, size_t bytes, void *out, const char *field,
                                 lathe_error *err) {
    size_t i, o = 0;
    uint8_t quad[4], *buf = out;
    lathe_status st = lathe_base64_check(text, bytes, field, err);
    if (st != LATHE_OK) return st;
    for (i = 0; o < bytes; i += 4) {
        uint32_t v;
        int k;
        for (k = 0; k < 4; k++) quad[k] = text[i + k] == '=' ? 0 : (uint8_t)base64_value(text[i + k]);
        v = (uint32_t)quad[0] << 18 | (uint32_t)quad[1] << 12 | (uint32_t)quad[2] << 6 | quad[3];
        buf[o++] = (uint8_t)(v >> 16);
        if (o < bytes) buf[o++] = (uint8_t)(v >> 8);
        if (o < bytes) buf[o++] = (uint8_t)v;
    }
    return LATHE_OK;
}

lathe_status lathe_base64_decode_floats(const char *text, size_t n_floats, float *out,
                                        const char *field, lathe_error *err) {
    size_t i;
    uint8_t *buf = (uint8_t *)out;
    lathe_status st = lathe_base64_decode(text, n_floats * 4, out, field, err);
    if (st != LATHE_OK) return st;
    /* Little-endian bytes to floats, whatever the host order, then finiteness. */
    for (i = 0; i < n_floats; i++) {
        uint32_t bits = (uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 |
                        (uint32_t)buf[4 * i + 2] << 16 | (uint32_t)buf[4 * i + 3] << 24;
        memcpy(&out[i], &bits, 4);
        if (!(out[i] - out[i] == 0.0f))
            return lathe_error_set(err, LATHE_ERR_INVALID, "%s[%zu]: the value is %s", field, i,
                                   out[i] != out[i] ? "NaN" : "infinite");
    }
    return LATHE_OK;
}
