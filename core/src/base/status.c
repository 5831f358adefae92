#include "lathe/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

lathe_status lathe_error_set(lathe_error *err, lathe_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        err->status = status;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

void lathe_error_prefix(lathe_error *err, const char *prefix) {
    char tmp[LATHE_ERROR_MESSAGE_MAX];
    size_t used;
    if (!err || !prefix) return;
    used = (size_t)snprintf(tmp, sizeof tmp, "%s: ", prefix);
    if (used < sizeof tmp) {
        size_t room = sizeof tmp - used - 1, len = strlen(err->message);
        if (len > room) len = room;
        memcpy(tmp + used, err->message, len);
        tmp[used + len] = '\0';
    }
    memcpy(err->message, tmp, sizeof tmp);
}

void lathe_error_clear(lathe_error *err) {
    if (!err) return;
    err->status = LATHE_OK;
    err->message[0] = '\0';
}

const char *lathe_status_name(lathe_status status) {
    switch (status) {
    case LATHE_OK: return "ok";
    case LATHE_ERR_INVALID: return "invalid input";
    case LATHE_ERR_NOMEM: return "out of memory";
    case LATHE_ERR_DIVERGED: return "training diverged";
    case LATHE_ERR_MISMATCH: return "data mismatch";
    case LATHE_ERR_STATE: return "invalid state";
    case LATHE_ERR_LIMIT: return "over a limit";
    }
    return "unknown status";
}
