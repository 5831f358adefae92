/* Seeded synthetic data sets, in the spirit of scikit-learn's make_moons / make_circles /
 * make_blobs and the spiral of CS231n. Every value comes from the core's generator and from
 * plain double arithmetic (sin and cos are series below), so every target agrees. */
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/prepare.h"
#include "lathe/rng.h"

static const double pi = 3.14159265358979323846;

/* sin x for any finite x: reduce to [-pi, pi], then a Taylor series to x^23 (error < 1e-11). */
static double series_sin(double x) {
    double k = (double)(long long)(x / (2.0 * pi)), term, sum, x2;
    int i;
    x = x - k * (2.0 * pi);
    if (x > pi) x -= 2.0 * pi;
    if (x < -pi) x += 2.0 * pi;
    x2 = x * x, term = x, sum = x;
    for (i = 1; i <= 11; i++) {
        term = -term * x2 / (double)((2 * i) * (2 * i + 1));
        sum += term;
    }
    return sum;
}

static double series_cos(double x) { return series_sin(x + pi / 2.0); }

static lathe_status add_column(lathe_table *t, size_t index, const char *name,
                               lathe_column_type type, size_t classes) {
    lathe_column *col = &t->columns[index];
    size_t k;
    col->name = lathe_malloc(strlen(name) + 1);
    col->values = lathe_malloc(t->rows * sizeof *col->values);
    if (!col->name || !col->values) return LATHE_ERR_NOMEM;
    strcpy(col->name, name);
    col->type = type;
    if (type != LATHE_COLUMN_CATEGORICAL) return LATHE_OK;
    col->categories = lathe_calloc(classes, sizeof *col->categories);
    if (!col->categories) return LATHE_ERR_NOMEM;
    for (k = 0; k < classes; k++) {
        col->categories[k] = lathe_malloc(4);
        if (!col->categories[k]) return LATHE_ERR_NOMEM;
        col->n_categories = k + 1;
        col->categories[k][0] = (char)('0' + k);
        col->categories[k][1] = '\0';
    }
    return LATHE_OK;
}

lathe_status lathe_synthetic_table(const char *name, size_t samples, float noise,
                                   size_t classes, uint64_t seed, lathe_table **out,
                                   lathe_error *err) {
    lathe_table *t;
    lathe_rng rng;
    size_t i;
    int curve = strcmp(name, "curve") == 0;
    double sd = (double)noise;
    float *x1, *x2, *y;
    *out = NULL;
    if (classes < 2 || classes > 10)
        return lathe_error_set(err, LATHE_ERR_INVALID, "data.classes: must be in [2, 10]");
    if (strcmp(name, "moons") == 0 || strcmp(name, "circles") == 0 || strcmp(name, "xor") == 0)
        classes = 2;
    t = lathe_calloc(1, sizeof *t);
    if (!t) goto nomem;
    t->rows = samples;
    t->cols = curve ? 2 : 3;
    t->columns = lathe_calloc(t->cols, sizeof *t->columns);
    if (!t->columns) goto nomem;
    if (curve) {
        if (add_column(t, 0, "x", LATHE_COLUMN_NUMERIC, 0) != LATHE_OK ||
            add_column(t, 1, "y", LATHE_COLUMN_NUMERIC, 0) != LATHE_OK)
            goto nomem;
    } else if (add_column(t, 0, "x1", LATHE_COLUMN_NUMERIC, 0) != LATHE_OK ||
               add_column(t, 1, "x2", LATHE_COLUMN_NUMERIC, 0) != LATHE_OK ||
               add_column(t, 2, "label", LATHE_COLUMN_CATEGORICAL, classes) != LATHE_OK) {
        goto nomem;
    }
    x1 = t->columns[0].values, x2 = t->columns[1].values, y = curve ? NULL : t->columns[2].values;
    lathe_rng_seed(&rng, seed, LATHE_STREAM_SYNTHETIC);
    for (i = 0; i < samples; i++) {
        double a, b, u, e1, e2;
        size_t label = i % classes;
        /* every sample draws u, then two normals for noise, in this order */
        u = (double)lathe_rng_uniform(&rng);
        e1 = (double)lathe_rng_normal(&rng) * sd;
        e2 = (double)lathe_rng_normal(&rng) * sd;
        if (curve) {
            a = -3.0 + 6.0 * u;
            x1[i] = (float)a;
            x2[i] = (float)(series_sin(a) + e1);
            continue;
        }
        if (strcmp(name, "spiral") == 0) {
            double r = u, theta = 2.0 * pi * (double)label / (double)classes + 4.0 * u;
            a = r * series_sin(theta) + e1 * 0.5, b = r * series_cos(theta) + e2 * 0.5;
        } else if (strcmp(name, "moons") == 0) {
            double angle = pi * u;
            if (label == 0) a = series_cos(angle), b = series_sin(angle);
            else a = 1.0 - series_cos(angle), b = 0.5 - series_sin(angle);
            a += e1, b += e2;
        } else if (strcmp(name, "circles") == 0) {
            double angle = 2.0 * pi * u, radius = label == 0 ? 1.0 : 0.5;
            a = radius * series_cos(angle) + e1, b = radius * series_sin(angle) + e2;
        } else if (strcmp(name, "xor") == 0) {
            double v = (double)lathe_rng_uniform(&rng);
            a = 2.0 * u - 1.0, b = 2.0 * v - 1.0;
            label = (a > 0.0) == (b > 0.0) ? 0 : 1;
            a += e1 * 0.2, b += e2 * 0.2;
        } else { /* blobs: centres on a circle of radius 2, unit spread scaled by 0.5 + noise */
            double angle = 2.0 * pi * (double)label / (double)classes;
            double n1 = (double)lathe_rng_normal(&rng), n2 = (double)lathe_rng_normal(&rng);
            a = 2.0 * series_cos(angle) + (0.5 + sd) * n1;
            b = 2.0 * series_sin(angle) + (0.5 + sd) * n2;
        }
        x1[i] = (float)a, x2[i] = (float)b, y[i] = (float)label;
    }
    *out = t;
    return LATHE_OK;
nomem:
    lathe_table_destroy(t);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory generating %s", name);
}
