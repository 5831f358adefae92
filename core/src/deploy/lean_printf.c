/* snprintf and vsnprintf for the web export's runtime only (lathe_core_lean, which compiles
 * every core source with snprintf and vsnprintf defined to these names; CMakeLists.txt). The
 * C library's formatter brings its floating-point conversions, which in Emscripten's libc do
 * long-double arithmetic through soft-float routines: several KB of the runtime for messages
 * that print no floats. This one does what the linked core code prints: %s, %c, %d, %i, %u,
 * %x, %X and %% with the flags '-' and '0', a width, a precision (".N" or ".*") and the
 * length modifiers hh, h, l, ll, z, j and t; anything else is copied as it is written. Same
 * contract as C99's: at most cap − 1 characters and a NUL (cap > 0), returns the length the
 * whole text has. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int lathe_lean_vsnprintf(char *out, size_t cap, const char *fmt, va_list ap);
int lathe_lean_snprintf(char *out, size_t cap, const char *fmt, ...);

typedef struct sink {
    char *out;
    size_t cap, len;
} sink;

static void put(sink *s, char ch) {
    if (s->len + 1 < s->cap) s->out[s->len] = ch;
    s->len++;
}

static void put_padded(sink *s, const char *text, size_t n, size_t width, int left, char pad) {
    size_t i;
    for (i = n; !left && i < width; i++) put(s, pad);
    for (i = 0; i < n; i++) put(s, text[i]);
    for (i = n; left && i < width; i++) put(s, ' ');
}

int lathe_lean_vsnprintf(char *out, size_t cap, const char *fmt, va_list ap) {
    sink s;
    s.out = out, s.cap = cap, s.len = 0;
    while (*fmt) {
        const char *start = fmt;
        int left = 0, zero = 0, lng = 0, has_precision = 0;
        size_t width = 0, precision = 0;
        char buf[24];
        if (*fmt != '%') {
            put(&s, *fmt++);
            continue;
        }
        fmt++;
        for (;; fmt++)
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') zero = 1;
            else break;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (size_t)(*fmt++ - '0');
        if (*fmt == '.') {
            has_precision = 1;
            if (*++fmt == '*') {
                int p = va_arg(ap, int);
                precision = p < 0 ? 0 : (size_t)p, has_precision = p >= 0, fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9') precision = precision * 10 + (size_t)(*fmt++ - '0');
            }
        }
        /* lng: 0 int, 1 long, 2 long long, 3 size_t, 4 intmax_t, 5 ptrdiff_t (hh, h: int) */
        while (*fmt == 'h') fmt++;
        if (*fmt == 'l') lng = *++fmt == 'l' ? (fmt++, 2) : 1;
        else if (*fmt == 'z') lng = 3, fmt++;
        else if (*fmt == 'j') lng = 4, fmt++;
        else if (*fmt == 't') lng = 5, fmt++;
        switch (*fmt) {
        case '%':
            put(&s, '%');
            break;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            put_padded(&s, buf, 1, width, left, ' ');
            break;
        case 's': {
            const char *text = va_arg(ap, const char *);
            size_t n = 0;
            if (!text) text = "(null)";
            while ((!has_precision || n < precision) && text[n]) n++;
            put_padded(&s, text, n, width, left, ' ');
            break;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X': {
            int is_signed = *fmt == 'd' || *fmt == 'i', negative = 0;
            unsigned base = *fmt == 'x' || *fmt == 'X' ? 16u : 10u;
            const char *digits = *fmt == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            uintmax_t v;
            size_t n = sizeof buf;
            if (is_signed) {
                intmax_t x = lng == 1   ? va_arg(ap, long)
                             : lng == 2 ? va_arg(ap, long long)
                             : lng == 3 ? (intmax_t)va_arg(ap, size_t)
                             : lng == 4 ? va_arg(ap, intmax_t)
                             : lng == 5 ? va_arg(ap, ptrdiff_t)
                                        : va_arg(ap, int);
                negative = x < 0;
                v = negative ? (uintmax_t)0 - (uintmax_t)x : (uintmax_t)x;
            } else {
                v = lng == 1   ? va_arg(ap, unsigned long)
                    : lng == 2 ? va_arg(ap, unsigned long long)
                    : lng == 3 ? va_arg(ap, size_t)
                    : lng == 4 ? va_arg(ap, uintmax_t)
                    : lng == 5 ? (uintmax_t)va_arg(ap, ptrdiff_t)
                               : va_arg(ap, unsigned);
            }
            do buf[--n] = digits[v % base], v /= base;
            while (v);
            while (has_precision && sizeof buf - n < precision && n > 1) buf[--n] = '0';
            if (zero && !left && !has_precision) {
                size_t used = sizeof buf - n + (size_t)negative;
                while (used < width && n > 1) buf[--n] = '0', used++;
            }
            if (negative) buf[--n] = '-';
            put_padded(&s, buf + n, sizeof buf - n, width, left, ' ');
            break;
        }
        default: /* not a conversion this formatter knows: the text as written */
            while (start <= fmt && *start) put(&s, *start++);
            if (!*fmt) fmt--;
            break;
        }
        fmt++;
    }
    if (cap) out[s.len < cap ? s.len : cap - 1] = '\0';
    return (int)s.len;
}

int lathe_lean_snprintf(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = lathe_lean_vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}
