/* The C source export (lathe/export_c.h): the model's preparation and forward pass written
 * out as plain C99 loops in the order of the core's scalar kernels (the _ref.c files of kernels/, which
 * define the bits), with every constant as its exact bits. */
#include "lathe/export_c.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/batchnorm.h"
#include "lathe/kernels.h"
#include "lathe/trainer.h"
#include "lathe/version.h"
#include "lathe_export_mathf.h"

/* A growing NUL-terminated text; failed is set (and the text dropped) when memory runs out. */
typedef struct text {
    char *s;
    size_t n, cap;
    int failed;
    size_t data_bytes; /* the bytes of the constant arrays written (lathe_export_c_footprint) */
} text;

static void put(text *t, const char *fmt, ...) {
    va_list ap;
    int len;
    if (t->failed) return;
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        t->failed = 1;
        return;
    }
    if (t->n + (size_t)len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        char *s;
        while (cap < t->n + (size_t)len + 1) cap *= 2;
        s = lathe_realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s, t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    t->n += (size_t)len;
}

/* s as a C string literal: quotes, backslashes and '?' (trigraphs) escaped, bytes outside
 * printable ASCII as octal escapes. */
static void put_string(text *t, const char *s) {
    put(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\' || c == '?')
            put(t, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            put(t, "\\%03o", c);
        else
            put(t, "%c", c);
    }
    put(t, "\"");
}

/* float values:(n) as "static const union { uint32_t u[n]; float f[n]; } NAME = {{bits}}". */
static void put_floats(text *t, const char *name, const float *v, size_t n) {
    size_t i;
    t->data_bytes += 4 * (n ? n : 1);
    put(t, "static const union {\n    uint32_t u[%zu];\n    float f[%zu];\n} %s = {{", n ? n : 1,
        n ? n : 1, name);
    for (i = 0; i < (n ? n : 1); i++) {
        uint32_t bits = 0;
        if (n) memcpy(&bits, &v[i], 4);
        put(t, "%s0x%08lxu", i == 0 ? "\n    " : i % 8 ? ", " : ",\n    ", (unsigned long)bits);
    }
    put(t, "}};\n");
}

/* double values:(n), the same way with uint64_t words. */
static void put_doubles(text *t, const char *name, const double *v, size_t n) {
    size_t i;
    t->data_bytes += 8 * n;
    put(t, "static const union {\n    uint64_t u[%zu];\n    double d[%zu];\n} %s = {{", n, n, name);
    for (i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], 8);
        put(t, "%s0x%08lx%08lxull", i == 0 ? "\n    " : i % 4 ? ", " : ",\n    ",
            (unsigned long)(bits >> 32), (unsigned long)(bits & 0xffffffffu));
    }
    put(t, "}};\n");
}

/* int8 values:(n) as "static const int8_t NAME[n] = {...}". */
static void put_int8s(text *t, const char *name, const int8_t *v, size_t n) {
    size_t i;
    t->data_bytes += n ? n : 1;
    put(t, "static const int8_t %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < (n ? n : 1); i++)
        put(t, "%s%d", i == 0 ? "\n    " : i % 16 ? ", " : ",\n    ", n ? v[i] : 0);
    put(t, "};\n");
}

/* unsigned values:(n) as "static const TYPE NAME[n] = {...}" (TYPE uint16_t or uint32_t). */
static void put_indices(text *t, const char *type, const char *name, const uint32_t *v, size_t n) {
    size_t i;
    t->data_bytes += (strcmp(type, "uint16_t") == 0 ? 2 : 4) * (n ? n : 1);
    put(t, "static const %s %s[%zu] = {", type, name, n ? n : 1);
    for (i = 0; i < (n ? n : 1); i++)
        put(t, "%s%lu", i == 0 ? "\n    " : i % 12 ? ", " : ",\n    ", n ? (unsigned long)v[i] : 0ul);
    put(t, "};\n");
}

/* The weights of a dense or conv2d layer as rows (one per output channel) of fan_in values:
 * the nonzero count, and whether the compressed rows (CSR: row starts, column indices and the
 * nonzero values) take fewer bytes than the dense array. Skipping a zero weight leaves every
 * sum's bits as they are: s + x·0 is s for a finite x. */
static size_t weight_nonzeros(const lathe_layer_info *li) {
    size_t i, k = 0;
    for (i = 0; i < li->n_weights; i++)
        k += li->int8 ? li->int8->weights[i] != 0 : li->weights[i] != 0.0f;
    return k;
}

static size_t weight_rows(const lathe_layer_info *li) {
    return li->kind == LATHE_LAYER_DENSE ? li->out : li->out_c;
}

static int stored_csr(const lathe_layer_info *li) {
    size_t n = li->n_weights, k, rows, value = li->int8 ? 1 : 4, index;
    if (li->kind != LATHE_LAYER_DENSE && li->kind != LATHE_LAYER_CONV2D) return 0;
    rows = weight_rows(li);
    index = n / rows > 65535 ? 4 : 2;
    k = weight_nonzeros(li);
    return k * (value + index) + 4 * (rows + 1) < n * value;
}

/* The CSR arrays of a layer's weights: layerL_rows (rows + 1 starts), layerL_cols, and the
 * values layerL_w (float bits) or layerL_q (int8). */
static void put_csr(text *t, const lathe_layer_info *li, size_t l) {
    size_t n = li->n_weights, rows = weight_rows(li), fan_in = n / rows, k = weight_nonzeros(li);
    size_t r, i, j = 0;
    uint32_t *starts = lathe_malloc((rows + 1) * sizeof *starts), *cols = lathe_malloc((k ? k : 1) * sizeof *cols);
    float *fv = li->int8 ? NULL : lathe_malloc((k ? k : 1) * sizeof *fv);
    int8_t *qv = li->int8 ? lathe_malloc(k ? k : 1) : NULL;
    char name[48];
    if (!starts || !cols || (!fv && !qv)) {
        t->failed = 1;
    } else {
        for (r = 0; r < rows; r++) {
            starts[r] = (uint32_t)j;
            for (i = 0; i < fan_in; i++) {
                size_t at = r * fan_in + i;
                int nz = li->int8 ? li->int8->weights[at] != 0 : li->weights[at] != 0.0f;
                if (!nz) continue;
                cols[j] = (uint32_t)i;
                if (qv) qv[j] = li->int8->weights[at];
                else fv[j] = li->weights[at];
                j++;
            }
        }
        starts[rows] = (uint32_t)j;
        snprintf(name, sizeof name, "layer%zu_rows", l);
        put_indices(t, "uint32_t", name, starts, rows + 1);
        snprintf(name, sizeof name, "layer%zu_cols", l);
        put_indices(t, fan_in > 65535 ? "uint32_t" : "uint16_t", name, cols, k);
        snprintf(name, sizeof name, li->int8 ? "layer%zu_q" : "layer%zu_w", l);
        if (qv) put_int8s(t, name, qv, k);
        else put_floats(t, name, fv, k);
    }
    lathe_free(starts);
    lathe_free(cols);
    lathe_free(fv);
    lathe_free(qv);
}

/* The core's maths (the embedded text of mathf_internal.h and mathf.c, every function static
 * inline) cut to what the model calls: the text before the first definition (the constants),
 * then each top-level definition ("static …" to a closing "}" or ";" line, with the comment
 * lines before it) that the needed functions reach. */
#define MATHS_MAX 48
typedef struct maths_chunk {
    const char *start, *body, *end; /* comment start, definition start, one past its end */
    char name[40];
    int used;
} maths_chunk;

static int is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* 1 when the word w occurs in [from, to) as a whole word. */
static int mentions(const char *from, const char *to, const char *w) {
    size_t n = strlen(w);
    const char *p;
    for (p = from; p + n <= to; p++)
        if (memcmp(p, w, n) == 0 && (p == from || !is_word(p[-1])) && !is_word(p[n])) return 1;
    return 0;
}

static void mark(maths_chunk *ch, size_t n, size_t k) {
    size_t j;
    if (ch[k].used) return;
    ch[k].used = 1;
    for (j = 0; j < n; j++)
        if (j != k && mentions(ch[k].body, ch[k].end, ch[j].name)) mark(ch, n, j);
}

static void put_maths(text *t, const char *const *needed, size_t n_needed) {
    const char *all = (const char *)lathe_export_mathf_text, *p = all, *pending = NULL;
    const char *head_end = NULL;
    maths_chunk ch[MATHS_MAX];
    size_t n = 0, k, j;
    while (*p) {
        const char *line = p, *eol = strchr(p, '\n');
        const char *next = eol ? eol + 1 : p + strlen(p);
        if (strncmp(line, "static ", 7) == 0 && n < MATHS_MAX) {
            const char *q = next, *name_end, *name_start;
            int fn = strchr(line, '(') && strchr(line, '(') < next;
            /* a function ends at a "}" line, a constant at the line ending in ";" */
            if (fn) {
                while (*q && !(q[0] == '}' && (q[1] == '\n' || q[1] == '\0'))) {
                    const char *e = strchr(q, '\n');
                    q = e ? e + 1 : q + strlen(q);
                }
                if (*q) q += q[1] ? 2 : 1;
                name_end = strchr(line, '(');
            } else {
                name_end = strchr(line, '=');
                while (name_end > line && !is_word(name_end[-1])) name_end--;
            }
            name_start = name_end;
            while (name_start > line && is_word(name_start[-1])) name_start--;
            if (!head_end) head_end = pending ? pending : line;
            ch[n].start = pending ? pending : line;
            ch[n].body = line;
            ch[n].end = fn ? q : next;
            snprintf(ch[n].name, sizeof ch[n].name, "%.*s", (int)(name_end - name_start),
                     name_start);
            ch[n].used = 0;
            n++;
            pending = NULL;
            p = fn ? q : next;
            continue;
        }
        if (!pending && line[0] == '/' && line[1] == '*') pending = line;
        else if (line[0] == '\n') pending = NULL;
        p = next;
    }
    for (k = 0; k < n_needed; k++)
        for (j = 0; j < n; j++)
            if (strcmp(ch[j].name, needed[k]) == 0) mark(ch, n, j);
    put(t, "%.*s", (int)((head_end ? head_end : p) - all), all);
    for (j = 0; j < n; j++)
        if (ch[j].used) put(t, "%.*s\n", (int)(ch[j].end - ch[j].start), ch[j].start);
}

int lathe_export_c_name_ok(const char *name) {
    size_t i;
    if (!name || !name[0] || (name[0] >= '0' && name[0] <= '9')) return 0;
    for (i = 0; name[i]; i++) {
        char c = name[i];
        if (i >= 63 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* The widest activation (features per sample) the forward pass holds: the arena's half. */
static size_t widest(const lathe_trainer *net, size_t features) {
    size_t l, w = features;
    for (l = 0; l < lathe_trainer_layer_count(net); l++) {
        lathe_layer_info li;
        lathe_trainer_layer(net, l, &li);
        if (li.out > w) w = li.out;
    }
    return w;
}

/* The constants of layer l (weights, bias, batch-norm statistics) as static unions. */
static void put_layer_constants(text *t, const lathe_layer_info *li, size_t l) {
    char name[48];
    if (li->kind == LATHE_LAYER_BATCH_NORM) {
        size_t c;
        double *mean = lathe_malloc(2 * li->channels * sizeof *mean), *invstd;
        if (!mean) {
            t->failed = 1;
            return;
        }
        invstd = mean + li->channels;
        for (c = 0; c < li->channels; c++) { /* as lathe_batchnorm_forward_eval computes them */
            mean[c] = (double)li->running_mean[c];
            invstd[c] = 1.0 / sqrt((double)li->running_var[c] + (double)LATHE_BATCHNORM_EPS);
        }
        snprintf(name, sizeof name, "layer%zu_mean", l);
        put_doubles(t, name, mean, li->channels);
        snprintf(name, sizeof name, "layer%zu_invstd", l);
        put_doubles(t, name, invstd, li->channels);
        lathe_free(mean);
    }
    if (li->int8) { /* quant.h: the input's scale, the multipliers s_in·s_c, the weights */
        float *mult = lathe_malloc(li->int8->channels * sizeof *mult);
        size_t c;
        if (!mult) {
            t->failed = 1;
            return;
        }
        for (c = 0; c < li->int8->channels; c++)
            mult[c] = li->int8->input_scale * li->int8->weight_scales[c];
        snprintf(name, sizeof name, "layer%zu_in_scale", l);
        put_floats(t, name, &li->int8->input_scale, 1);
        snprintf(name, sizeof name, "layer%zu_m", l);
        put_floats(t, name, mult, li->int8->channels);
        lathe_free(mult);
    }
    if (li->n_weights && stored_csr(li)) {
        put_csr(t, li, l);
    } else if (li->int8) {
        snprintf(name, sizeof name, "layer%zu_q", l);
        put_int8s(t, name, li->int8->weights, li->n_weights);
    } else if (li->n_weights) {
        snprintf(name, sizeof name, "layer%zu_w", l);
        put_floats(t, name, li->weights, li->n_weights);
    }
    if (li->n_bias) {
        snprintf(name, sizeof name, "layer%zu_b", l);
        put_floats(t, name, li->bias, li->n_bias);
    }
}

/* The forward code of an int8 layer (quant.h: the input quantised into qx, exact int32
 * sums, then (float)s·m[o] + b[o]) or of a float layer in compressed rows (the float sums of
 * the dense code without the zero terms), dense or conv2d. Returns 1. */
static int put_packed_layer_code(text *t, const lathe_layer_info *li, size_t l, const char *bias) {
    int q = li->int8 != NULL, csr = stored_csr(li);
    const char *acc = q ? "int32_t s = 0" : "float s = 0.0f";
    char term[320], value[128], tail[96];
    if (q)
        put(t, "    for (k = 0; k < %zu; k++) qx[k] = (int16_t)(lathe_q8(x[k], layer%zu_in_scale.f[0], %ld) - %ld);\n",
            li->in, l, (long)li->int8->input_zero_point, (long)li->int8->input_zero_point);
    if (q) snprintf(tail, sizeof tail, "(float)s * layer%zu_m.f[o]", l);
    else snprintf(tail, sizeof tail, "s");
    if (li->kind == LATHE_LAYER_DENSE) {
        if (csr) {
            snprintf(value, sizeof value, "%s[layer%zu_cols[k]]", q ? "qx" : "x", l);
            snprintf(term, sizeof term, q ? "s += (int32_t)%s * layer%zu_q[k]" : "s = s + %s * layer%zu_w.f[k]",
                     value, l);
            put(t,
                "    for (o = 0; o < %zu; o++) {\n"
                "        %s;\n"
                "        for (k = layer%zu_rows[o]; k < layer%zu_rows[o + 1]; k++) %s;\n",
                li->out, acc, l, l, term);
        } else {
            put(t,
                "    for (o = 0; o < %zu; o++) {\n"
                "        %s;\n"
                "        for (k = 0; k < %zu; k++) s += (int32_t)qx[k] * layer%zu_q[o * %zu + k];\n",
                li->out, acc, li->in, l, li->in);
        }
        if (q) put(t, "        {\n            float v = %s;\n            y[o] = v%s;\n        }\n    }\n", tail, bias);
        else put(t, "        y[o] = s%s;\n    }\n", bias);
        return 1;
    }
    /* conv2d: the taps (c, ki, kj) in increasing order, padding taps 0 (the zero point) */
    put(t,
        "    for (o = 0; o < %zu; o++)\n"
        "        for (i = 0; i < %zu; i++)\n"
        "            for (j = 0; j < %zu; j++) {\n"
        "                %s;\n",
        li->out_c, li->out_h, li->out_w, acc);
    if (csr)
        put(t,
            "                for (f = layer%zu_rows[o]; f < layer%zu_rows[o + 1]; f++) {\n"
            "                    size_t tap = layer%zu_cols[f];\n"
            "                    c = tap / %zu, ki = tap / %zu %% %zu, kj = tap %% %zu;\n",
            l, l, l, li->kernel * li->kernel, li->kernel, li->kernel, li->kernel);
    else
        put(t,
            "                for (c = 0; c < %zu; c++)\n"
            "                    for (ki = 0; ki < %zu; ki++)\n"
            "                        for (kj = 0; kj < %zu; kj++) {\n",
            li->in_c, li->kernel, li->kernel);
    put(t,
        "                    long r = (long)(i * %zu + ki) - %zu, p = (long)(j * %zu + kj) - %zu;\n"
        "                    if (r >= 0 && r < %zu && p >= 0 && p < %zu) {\n",
        li->stride, li->pad, li->stride, li->pad, li->in_h, li->in_w);
    snprintf(value, sizeof value, "%s[(c * %zu + (size_t)r) * %zu + (size_t)p]", q ? "qx" : "x", li->in_h, li->in_w);
    if (csr && !q) snprintf(term, sizeof term, "s = s + layer%zu_w.f[f] * %s", l, value);
    else if (csr) snprintf(term, sizeof term, "s += (int32_t)%s * layer%zu_q[f]", value, l);
    else
        snprintf(term, sizeof term, "s += (int32_t)%s * layer%zu_q[((o * %zu + c) * %zu + ki) * %zu + kj]", value, l,
                 li->in_c, li->kernel, li->kernel);
    put(t, "                        %s;\n                    }\n                }\n", term);
    if (q)
        put(t, "                {\n                    float v = %s;\n                    y[(o * %zu + i) * %zu + j] = v%s;\n                }\n            }\n",
            tail, li->out_h, li->out_w, bias);
    else
        put(t, "                y[(o * %zu + i) * %zu + j] = s%s;\n            }\n", li->out_h, li->out_w, bias);
    return 1;
}

/* The forward code of layer l from x to y (both float arrays of the arena); returns 0 when the
 * layer leaves its input as it is (flatten, and dropout at inference), else 1. */
static int put_layer_code(text *t, const lathe_layer_info *li, size_t l) {
    char bias[48] = "", gamma[48] = "1.0", beta[48] = "0.0";
    if (li->n_bias) snprintf(bias, sizeof bias, " + layer%zu_b.f[%s]", l,
                             li->kind == LATHE_LAYER_BATCH_NORM ? "c" : "o");
    if (li->kind == LATHE_LAYER_BATCH_NORM) {
        if (li->n_weights) snprintf(gamma, sizeof gamma, "(double)layer%zu_w.f[c]", l);
        if (li->n_bias) snprintf(beta, sizeof beta, "(double)layer%zu_b.f[c]", l);
    }
    put(t, "    /* layer %zu: %s%s%s */\n", l, lathe_layer_type_name(li->kind, li->activation),
        li->int8 ? ", int8" : "", stored_csr(li) ? ", compressed rows (zero weights skipped)" : "");
    if ((li->kind == LATHE_LAYER_DENSE || li->kind == LATHE_LAYER_CONV2D) && (li->int8 || stored_csr(li)))
        return put_packed_layer_code(t, li, l, bias);
    switch (li->kind) {
    case LATHE_LAYER_DENSE:
        /* lathe_dense_forward: s = 0; s += x[k]·W[o][k] in increasing k; then s + b[o] */
        put(t,
            "    for (o = 0; o < %zu; o++) {\n"
            "        float s = 0.0f;\n"
            "        for (k = 0; k < %zu; k++) s = s + x[k] * layer%zu_w.f[o * %zu + k];\n"
            "        y[o] = s%s;\n"
            "    }\n",
            li->out, li->in, l, li->in, bias);
        return 1;
    case LATHE_LAYER_CONV2D:
        /* lathe_conv2d_forward: im2col then W·col, s += W[o][c][ki][kj]·xpad over (c, ki, kj)
         * in increasing order, padding taps 0; then s + b[o] */
        put(t,
            "    for (o = 0; o < %zu; o++)\n"
            "        for (i = 0; i < %zu; i++)\n"
            "            for (j = 0; j < %zu; j++) {\n"
            "                float s = 0.0f;\n"
            "                for (c = 0; c < %zu; c++)\n"
            "                    for (ki = 0; ki < %zu; ki++)\n"
            "                        for (kj = 0; kj < %zu; kj++) {\n"
            "                            long r = (long)(i * %zu + ki) - %zu, q = (long)(j * %zu + kj) - %zu;\n"
            "                            float v = r >= 0 && r < %zu && q >= 0 && q < %zu ? x[(c * %zu + (size_t)r) * %zu + (size_t)q] : 0.0f;\n"
            "                            s = s + layer%zu_w.f[((o * %zu + c) * %zu + ki) * %zu + kj] * v;\n"
            "                        }\n"
            "                y[(o * %zu + i) * %zu + j] = s%s;\n"
            "            }\n",
            li->out_c, li->out_h, li->out_w, li->in_c, li->kernel, li->kernel, li->stride, li->pad,
            li->stride, li->pad, li->in_h, li->in_w, li->in_h, li->in_w, l, li->in_c, li->kernel,
            li->kernel, li->out_h, li->out_w, bias);
        return 1;
    case LATHE_LAYER_MAX_POOL:
        /* lathe_f32_max_pool2d__ref: the first maximum; a NaN wins once and stays */
        put(t,
            "    for (c = 0; c < %zu; c++)\n"
            "        for (i = 0; i < %zu; i++)\n"
            "            for (j = 0; j < %zu; j++) {\n"
            "                const float *win = x + c * %zu + i * %zu * %zu + j * %zu;\n"
            "                float m = win[0];\n"
            "                for (ki = 0; ki < %zu; ki++)\n"
            "                    for (kj = 0; kj < %zu; kj++) {\n"
            "                        float v = win[ki * %zu + kj];\n"
            "                        if (v > m || (v != v && m == m)) m = v;\n"
            "                    }\n"
            "                y[(c * %zu + i) * %zu + j] = m;\n"
            "            }\n",
            li->in_c, li->out_h, li->out_w, li->in_h * li->in_w, li->stride, li->in_w, li->stride,
            li->kernel, li->kernel, li->in_w, li->out_h, li->out_w);
        return 1;
    case LATHE_LAYER_AVG_POOL:
        /* lathe_f32_avg_pool2d__ref: s = 0; s += window in row order; s / (k·k) */
        put(t,
            "    for (c = 0; c < %zu; c++)\n"
            "        for (i = 0; i < %zu; i++)\n"
            "            for (j = 0; j < %zu; j++) {\n"
            "                const float *win = x + c * %zu + i * %zu * %zu + j * %zu;\n"
            "                float s = 0.0f;\n"
            "                for (ki = 0; ki < %zu; ki++)\n"
            "                    for (kj = 0; kj < %zu; kj++) s = s + win[ki * %zu + kj];\n"
            "                y[(c * %zu + i) * %zu + j] = s / (float)%zu;\n"
            "            }\n",
            li->in_c, li->out_h, li->out_w, li->in_h * li->in_w, li->stride, li->in_w, li->stride,
            li->kernel, li->kernel, li->in_w, li->out_h, li->out_w, li->kernel * li->kernel);
        return 1;
    case LATHE_LAYER_BATCH_NORM:
        /* lathe_batchnorm_forward_eval: in double, gamma·((x − mean)·invstd) + beta */
        put(t,
            "    for (c = 0; c < %zu; c++)\n"
            "        for (k = 0; k < %zu; k++)\n"
            "            y[c * %zu + k] = (float)(%s * (((double)x[c * %zu + k] - layer%zu_mean.d[c]) * "
            "layer%zu_invstd.d[c]) + %s);\n",
            li->channels, li->in / li->channels, li->in / li->channels,
            gamma, li->in / li->channels, l, l, beta);
        return 1;
    case LATHE_LAYER_DROPOUT:
    case LATHE_LAYER_FLATTEN:
        put(t, "    /* the identity at inference: x stays */\n");
        return 0;
    default:
        switch (li->activation) {
        case LATHE_ACT_RELU:
            put(t, "    for (k = 0; k < %zu; k++) y[k] = x[k] > 0.0f ? x[k] : 0.0f;\n", li->out);
            break;
        case LATHE_ACT_LEAKY_RELU:
            /* the core's slope, printed so that it reads back as the same float */
            put(t, "    for (k = 0; k < %zu; k++) y[k] = x[k] > 0.0f ? x[k] : %.9gf * x[k];\n",
                li->out, (double)LATHE_LEAKY_RELU_SLOPE);
            break;
        case LATHE_ACT_SIGMOID:
            put(t, "    for (k = 0; k < %zu; k++) y[k] = lathe_sigmoidf(x[k]);\n", li->out);
            break;
        case LATHE_ACT_TANH:
            put(t, "    for (k = 0; k < %zu; k++) y[k] = lathe_tanhf(x[k]);\n", li->out);
            break;
        default:
            put(t, "    for (k = 0; k < %zu; k++) y[k] = x[k];\n", li->out);
            break;
        }
        return 1;
    }
}

static void put_header(text *t, const char *name, const lathe_model *model, size_t n_inputs,
                       size_t n_outputs, size_t features, size_t arena_floats) {
    const lathe_prepared *prep = lathe_model_preparation(model);
    put(t,
        "/* %s: a model exported by lathe %s (weights_sha256 %s).\n"
        " * %s with %zu input column%s and %zu output%s; it predicts what `lathe predict` predicts,\n"
        " * bit for bit, when %s.c is built with -ffp-contract=off. C99, no malloc, no stdio, no\n"
        " * libm; one static arena (not re-entrant). */\n"
        "#ifndef %s_H\n#define %s_H\n\n"
        "#define %s_N_INPUTS %zu\n#define %s_N_FEATURES %zu\n#define %s_N_OUTPUTS %zu\n"
        "#define %s_CLASSIFIER %d\n#define %s_ARENA_BYTES %zu\n#define %s_WEIGHTS_SHA256 \"%s\"\n\n",
        name, LATHE_VERSION, lathe_model_weights_sha256(model),
        prep->task == LATHE_TASK_CLASSIFICATION ? "A classifier" : "A regression", n_inputs,
        n_inputs == 1 ? "" : "s", n_outputs, n_outputs == 1 ? "" : "s", name, name, name, name,
        n_inputs, name, features, name, n_outputs, name, prep->task == LATHE_TASK_CLASSIFICATION,
        name, arena_floats * sizeof(float), name,
        lathe_model_weights_sha256(model));
    put(t,
        "/* The raw input columns, in the order raw[] takes them, and their kinds: 0 a number, 1 a\n"
        " * boolean (0 or 1), 2 a category (its index, %s_category). */\n"
        "extern const char *const %s_input_names[%s_N_INPUTS];\n"
        "extern const unsigned char %s_input_kinds[%s_N_INPUTS];\n"
        "/* What out[] holds: the class names (probabilities), or the target's name. */\n"
        "extern const char *const %s_output_names[%s_N_OUTPUTS];\n\n"
        "/* The index of category text of categorical input (in training order), or -1 when the\n"
        " * model did not see it (or the input is not categorical). */\n"
        "int %s_category(int input, const char *text);\n\n"
        "/* Predicts one row: raw:(%s_N_INPUTS) raw values (NaN: missing), out:(%s_N_OUTPUTS).\n"
        " * Returns 0, or 1 + the index of a missing input the model has no fill for. */\n"
        "int %s_predict(const float *raw, float *out);\n\n#endif\n",
        name, name, name, name, name, name, name, name, name, name, name);
}

/* lathe_export_c, also giving the bytes of the constant arrays and of the static buffers. */
static lathe_status write_c(lathe_model *model, const char *name, char **header, char **source,
                            size_t *data_bytes, size_t *ram_bytes, lathe_error *err);

lathe_status lathe_export_c(lathe_model *model, const char *name, char **header, char **source,
                            lathe_error *err) {
    size_t data, ram;
    return write_c(model, name, header, source, &data, &ram, err);
}

lathe_status lathe_export_c_footprint(lathe_model *model, size_t *flash_data, size_t *ram,
                                      lathe_error *err) {
    char *h = NULL, *c = NULL;
    lathe_status st = write_c(model, "model", &h, &c, flash_data, ram, err);
    lathe_free(h);
    lathe_free(c);
    return st;
}

static lathe_status write_c(lathe_model *model, const char *name, char **header, char **source,
                            size_t *data_bytes, size_t *ram_bytes, lathe_error *err) {
    const lathe_prepared *prep = lathe_model_preparation(model);
    lathe_trainer *net = lathe_model_network(model);
    const lathe_experiment *exp = lathe_model_experiment(model);
    size_t F = prep->n_features, L = lathe_trainer_layer_count(net), C, W, l, j, s;
    int binary = exp->loss == LATHE_LOSS_BINARY_CROSS_ENTROPY;
    size_t logits;
    text h = {0}, c = {0};
    char tag[32];
    *header = *source = NULL;
    *data_bytes = *ram_bytes = 0;
    if (!lathe_export_c_name_ok(name))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "'%s' is not a C name (letters, digits and '_', not starting with "
                               "a digit, at most 63 characters)",
                               name ? name : "");
    C = lathe_trainer_n_outputs(net);
    W = widest(net, F);
    logits = F;
    for (l = 0; l < L; l++) {
        lathe_layer_info li;
        lathe_trainer_layer(net, l, &li);
        logits = li.out;
    }
    put_header(&h, name, model, prep->n_inputs, C, F, 2 * W);

    put(&c,
        "/* %s.c: the model of %s.h (lathe %s, weights_sha256 %s). Generated: the constants are\n"
        " * the trained weights and the fitted preparation, as their exact bits. */\n"
        "#include \"%s.h\"\n\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n",
        name, name, LATHE_VERSION, lathe_model_weights_sha256(model), name);
    {
        /* the maths this model calls */
        const char *needed[3];
        size_t n_needed = 0;
        int sigmoid = binary, tanh_used = 0;
        for (l = 0; l < L; l++) {
            lathe_layer_info li;
            lathe_trainer_layer(net, l, &li);
            sigmoid |= li.kind == LATHE_LAYER_ACTIVATION && li.activation == LATHE_ACT_SIGMOID;
            tanh_used |= li.kind == LATHE_LAYER_ACTIVATION && li.activation == LATHE_ACT_TANH;
        }
        if (sigmoid) needed[n_needed++] = "lathe_sigmoidf";
        if (tanh_used) needed[n_needed++] = "lathe_tanhf";
        if (!binary && prep->task == LATHE_TASK_CLASSIFICATION) needed[n_needed++] = "lathe_expf";
        put_maths(&c, needed, n_needed);
    }

    /* the interface's tables */
    put(&c, "const char *const %s_input_names[%s_N_INPUTS] = {", name, name);
    for (j = 0; j < prep->n_inputs; j++) {
        put(&c, j ? ", " : "");
        put_string(&c, prep->inputs[j].name);
    }
    put(&c, "};\nconst unsigned char %s_input_kinds[%s_N_INPUTS] = {", name, name);
    for (j = 0; j < prep->n_inputs; j++)
        put(&c, "%s%d", j ? ", " : "",
            prep->inputs[j].type == LATHE_COLUMN_CATEGORICAL ? 2
            : prep->inputs[j].type == LATHE_COLUMN_BOOLEAN   ? 1
                                                             : 0);
    put(&c, "};\nconst char *const %s_output_names[%s_N_OUTPUTS] = {", name, name);
    for (j = 0; j < C; j++) {
        put(&c, j ? ", " : "");
        put_string(&c, prep->task == LATHE_TASK_CLASSIFICATION ? prep->class_names[j]
                                                               : prep->target);
    }
    put(&c, "};\n\n");

    /* categories: one list per categorical input */
    put(&c, "/* The training categories of each categorical input (one-hot order). */\n");
    for (j = 0; j < prep->n_inputs; j++) {
        size_t k;
        if (prep->inputs[j].type != LATHE_COLUMN_CATEGORICAL) continue;
        put(&c, "static const char *const categories%zu[%zu] = {", j, prep->inputs[j].width);
        for (k = 0; k < prep->inputs[j].width; k++) {
            put(&c, k ? ", " : "");
            put_string(&c, lathe_prepared_category(prep, j, k));
        }
        put(&c, "};\n");
    }
    put(&c,
        "\nstatic int same_text(const char *a, const char *b) {\n"
        "    while (*a && *a == *b) a++, b++;\n"
        "    return *a == *b;\n}\n\n"
        "int %s_category(int input, const char *text) {\n"
        "    const char *const *names = NULL;\n    int n = 0, k;\n    switch (input) {\n",
        name);
    for (j = 0; j < prep->n_inputs; j++)
        if (prep->inputs[j].type == LATHE_COLUMN_CATEGORICAL)
            put(&c, "    case %zu:\n        names = categories%zu, n = %zu;\n        break;\n", j,
                j, prep->inputs[j].width);
    put(&c,
        "    default:\n        return -1;\n    }\n"
        "    for (k = 0; k < n; k++)\n        if (same_text(names[k], text)) return k;\n"
        "    return -1;\n}\n\n");

    /* the fitted preparation */
    put(&c, "/* The fitted preparation: each input's features [first, first + width) and kind,\n"
            " * the fill of a missing cell per feature, then each scaling step's shift and scale. */\n");
    put(&c, "static const struct {\n    unsigned long first, width;\n    unsigned char kind;\n} inputs[%zu] = {",
        prep->n_inputs);
    for (j = 0; j < prep->n_inputs; j++)
        put(&c, "%s{%zuu, %zuu, %d}", j == 0 ? "\n    " : j % 4 ? ", " : ",\n    ", prep->inputs[j].first,
            prep->inputs[j].width, prep->inputs[j].type == LATHE_COLUMN_CATEGORICAL ? 2 : 0);
    put(&c, "};\n");
    put_floats(&c, "fill", prep->fill, F);
    for (s = 0; s < prep->n_steps; s++) {
        if (prep->steps[s].kind == LATHE_PREP_IMPUTE) continue;
        snprintf(tag, sizeof tag, "shift%zu", s);
        put_floats(&c, tag, prep->steps[s].shift, F);
        snprintf(tag, sizeof tag, "scale%zu", s);
        put_floats(&c, tag, prep->steps[s].scale, F);
    }

    /* the network's constants */
    put(&c, "\n/* The network's weights and statistics, layer by layer. */\n");
    for (l = 0; l < L; l++) {
        lathe_layer_info li;
        lathe_trainer_layer(net, l, &li);
        put_layer_constants(&c, &li, l);
    }

    /* int8 layers: the quantised input's buffer and QuantizeLinear (quant.h) */
    {
        size_t widest_int8 = 0;
        for (l = 0; l < L; l++) {
            lathe_layer_info li;
            lathe_trainer_layer(net, l, &li);
            if (li.int8 && li.in > widest_int8) widest_int8 = li.in;
        }
        *ram_bytes = 2 * W * sizeof(float) + widest_int8 * sizeof(int16_t);
        if (widest_int8)
            put(&c,
                "\n/* An int8 layer's input, quantised and less its zero point (quant.h). */\n"
                "static int16_t qx[%zu];\n\n"
                "/* clamp(round_half_even(x / scale) + zero_point, -128, 127); NaN gives the zero\n"
                " * point. Adding and subtracting 1.5 * 2^23 rounds to an integer, ties to even. */\n"
                "static int32_t lathe_q8(float x, float scale, int32_t zero_point) {\n"
                "    float r = x / scale;\n    int32_t q;\n"
                "    if (r != r) return zero_point;\n"
                "    if (r > 512.0f) r = 512.0f;\n    if (r < -512.0f) r = -512.0f;\n"
                "    r = r + 12582912.0f;\n    r = r - 12582912.0f;\n"
                "    q = (int32_t)r + zero_point;\n"
                "    return q < -128 ? -128 : q > 127 ? 127 : q;\n}\n",
                widest_int8);
    }

    /* the arena and the forward pass */
    put(&c,
        "\n/* Two halves of %zu floats each: a layer reads one and writes the other. */\n"
        "static float arena[2][%zu];\n\n"
        "int %s_predict(const float *raw, float *out) {\n"
        "    float *x = arena[0], *y = arena[1], *swap;\n"
        "    size_t in, f, o, i, j, c, k, ki, kj;\n"
        "    /* lathe_prepare_rows: each input's features, a missing cell as the fitted fill */\n"
        "    for (in = 0; in < %zu; in++) {\n"
        "        float v = raw[in];\n"
        "        size_t first = inputs[in].first, width = inputs[in].width;\n"
        "        if (v != v) {\n"
        "            for (k = 0; k < width; k++) x[first + k] = fill.f[first + k];\n"
        "            if (inputs[in].kind != 2 && fill.f[first] != fill.f[first]) return (int)in + 1;\n"
        "        } else if (inputs[in].kind != 2) {\n"
        "            x[first] = v;\n"
        "        } else {\n"
        "            long slot = v >= 0.0f && v < (float)width && v == (float)(long)v ? (long)v : -1;\n"
        "            for (k = 0; k < width; k++) x[first + k] = (long)k == slot ? 1.0f : 0.0f;\n"
        "        }\n"
        "    }\n",
        W, W, name, prep->n_inputs);
    for (s = 0; s < prep->n_steps; s++) {
        if (prep->steps[s].kind == LATHE_PREP_IMPUTE) continue;
        put(&c,
            "    /* scaling step %zu: (x − shift)·scale */\n"
            "    for (f = 0; f < %zu; f++) x[f] = (x[f] - shift%zu.f[f]) * scale%zu.f[f];\n",
            s, F, s, s);
    }
    for (l = 0; l < L; l++) {
        lathe_layer_info li;
        lathe_trainer_layer(net, l, &li);
        if (put_layer_code(&c, &li, l)) put(&c, "    swap = x, x = y, y = swap;\n");
    }
    if (binary) {
        put(&c, "    /* one logit: (1 − p, p) with p = σ(z) */\n"
                "    out[1] = lathe_sigmoidf(x[0]);\n    out[0] = 1.0f - out[1];\n");
    } else if (prep->task == LATHE_TASK_CLASSIFICATION) {
        put(&c,
            "    /* lathe_f32_softmax__ref: the row max, e^(z − max) summed in order, then / sum */\n"
            "    {\n        float m = x[0], sum = 0.0f;\n"
            "        for (k = 1; k < %zu; k++)\n            if (x[k] > m) m = x[k];\n"
            "        for (k = 0; k < %zu; k++) {\n            out[k] = lathe_expf(x[k] - m);\n"
            "            sum += out[k];\n        }\n"
            "        for (k = 0; k < %zu; k++) out[k] = out[k] / sum;\n    }\n",
            logits, logits, logits);
    } else {
        put(&c, "    for (k = 0; k < %zu; k++) out[k] = x[k];\n", logits);
    }
    put(&c, "    (void)swap, (void)f, (void)o, (void)i, (void)j, (void)c, (void)ki, (void)kj;\n"
            "    (void)y;\n    return 0;\n}\n");

    if (h.failed || c.failed) {
        lathe_free(h.s), lathe_free(c.s);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory writing the C source");
    }
    *header = h.s, *source = c.s;
    *data_bytes = c.data_bytes;
    return LATHE_OK;
}
