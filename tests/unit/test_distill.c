/* Knowledge distillation (train.distill). The loss and its gradient (lathe_loss_distill):
 *  - against tests/unit/distill_vectors.json, written by distill_vectors.py in numpy (float64,
 *    PyTorch's formula: kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T²·α + (1 − α)·CE,
 *    its gradient by central differences there);
 *  - in double: the test's own float64 loss (libm), whose central differences (h = 1e-5) must
 *    match the float gradient, and whose value the float loss;
 *  - against the float loss's own central differences (as test_gradcheck does);
 *  - α 0 is softmax cross-entropy bit for bit; a teacher equal to the student at α 1 gives
 *    exactly 0; logits of ±1000 at T 0.01 stay finite.
 * The trainer: a student with the teacher's own weights at α 1 learns nothing (loss 0, the
 * same weights: the teacher saw the student's batches, in chunks of its own smaller batch
 * size); α 0 trains to the plain run's weights; a distilled run steps without allocating and
 * differs from the plain one. Refusals name the field: bad settings when parsing, and a
 * teacher of other classes, another preparation, one logit, a regression, or none at all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/losses.h"
#include "lathe/prepare.h"
#include "lathe/session.h"
#include "lathe/trainer.h"

#define MAX_ROWS 8
#define MAX_CLASSES 12

/* The distillation loss in double from the definition (libm's exp and log). */
static double loss_double(size_t n, size_t c, double T, double alpha, const double *s,
                          const float *t, const uint32_t *labels) {
    double kl = 0.0, ce = 0.0;
    size_t i, j;
    for (i = 0; i < n; i++) {
        double ms = -HUGE_VAL, ma, mb = -HUGE_VAL, sum_s = 0.0, sum_a = 0.0, sum_b = 0.0;
        for (j = 0; j < c; j++) {
            if (s[i * c + j] > ms) ms = s[i * c + j];
            if ((double)t[i * c + j] > mb) mb = (double)t[i * c + j];
        }
        ma = ms / T, mb /= T;
        for (j = 0; j < c; j++) {
            sum_s += exp(s[i * c + j] - ms);
            sum_a += exp(s[i * c + j] / T - ma);
            sum_b += exp((double)t[i * c + j] / T - mb);
        }
        for (j = 0; j < c; j++) {
            double log_p = (double)t[i * c + j] / T - mb - log(sum_b);
            double log_q = s[i * c + j] / T - ma - log(sum_a);
            kl += exp(log_p) * (log_p - log_q);
        }
        ce += log(sum_s) + ms - s[i * c + labels[i]];
    }
    return alpha * T * T * kl / (double)n + (1.0 - alpha) * ce / (double)n;
}

/* Checks lathe_loss_distill on one case: its loss and gradient against want_loss, want_grad
 * (NULL: not given), the double loss and its central differences, and the float loss's. */
static void check_case(const char *what, size_t n, size_t c, float T, float alpha, const float *s,
                       const float *t, const uint32_t *labels, double want_loss,
                       const double *want_grad) {
    float grad[MAX_ROWS * MAX_CLASSES], sf[MAX_ROWS * MAX_CLASSES];
    double sd[MAX_ROWS * MAX_CLASSES], scale = 0.0, ref;
    float loss = lathe_loss_distill(n, c, T, alpha, s, t, labels, grad);
    size_t k, bad_ref = 0, bad_double = 0, bad_float = 0;
    for (k = 0; k < n * c; k++)
        sd[k] = (double)s[k], sf[k] = s[k];
    ref = loss_double(n, c, (double)T, (double)alpha, sd, t, labels);
    CHECK(check_close((double)lathe_loss_distill(n, c, T, alpha, s, t, labels, NULL), (double)loss,
                      0, 0),
          "%s: the loss differs without the gradient", what);
    CHECK(check_close((double)loss, ref, 1e-6, 1e-5), "%s: loss %.9g, double %.9g", what,
          (double)loss, ref);
    if (want_grad)
        CHECK(check_close((double)loss, want_loss, 1e-6, 1e-5), "%s: loss %.9g, numpy %.9g", what,
              (double)loss, want_loss);
    for (k = 0; k < n * c; k++)
        if (fabs((double)grad[k]) > scale) scale = fabs((double)grad[k]);
    for (k = 0; k < n * c; k++) {
        double h = 1e-5, up, down, fd;
        float hf = 1e-2f * (fabsf(s[k]) > 1.0f ? fabsf(s[k]) : 1.0f), fu, fdn;
        if (want_grad && !check_close((double)grad[k], want_grad[k], 1e-6, 1e-4)) {
            if (bad_ref++ < 3)
                CHECK(0, "%s: grad[%zu] %.9g, numpy %.9g", what, k, (double)grad[k], want_grad[k]);
        }
        sd[k] = (double)s[k] + h;
        up = loss_double(n, c, (double)T, (double)alpha, sd, t, labels);
        sd[k] = (double)s[k] - h;
        down = loss_double(n, c, (double)T, (double)alpha, sd, t, labels);
        sd[k] = (double)s[k];
        fd = (up - down) / (2.0 * h);
        if (!check_close((double)grad[k], fd, 1e-6, 1e-4) && bad_double++ < 3)
            CHECK(0, "%s: grad[%zu] %.9g, double central difference %.9g", what, k, (double)grad[k],
                  fd);
        sf[k] = s[k] + hf;
        fu = lathe_loss_distill(n, c, T, alpha, sf, t, labels, NULL);
        sf[k] = s[k] - hf;
        fdn = lathe_loss_distill(n, c, T, alpha, sf, t, labels, NULL);
        fd = ((double)fu - (double)fdn) / ((double)(s[k] + hf) - (double)(s[k] - hf));
        sf[k] = s[k];
        /* a floor for a zero gradient (a teacher equal to the student): the h² term remains */
        if (!check_close((double)grad[k], fd, 1e-3 * (scale > 0.1 ? scale : 0.1), 1e-2) &&
            bad_float++ < 3)
            CHECK(0, "%s: grad[%zu] %.9g, float central difference %.9g", what, k, (double)grad[k],
                  fd);
    }
    check_count++;
}

static int read_floats(const cJSON *arr, float *out, size_t n) {
    size_t k = 0;
    const cJSON *v;
    if ((size_t)cJSON_GetArraySize(arr) != n) return 0;
    cJSON_ArrayForEach(v, arr) out[k++] = (float)v->valuedouble;
    return 1;
}

/* The numpy cases. */
static void vectors(void) {
    size_t len, count = 0;
    char *text = check_read_file("tests/unit/distill_vectors.json", &len);
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *item;
    CHECK(root != NULL, "tests/unit/distill_vectors.json: missing or not JSON");
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
        float s[MAX_ROWS * MAX_CLASSES], t[MAX_ROWS * MAX_CLASSES];
        double grad[MAX_ROWS * MAX_CLASSES];
        uint32_t labels[MAX_ROWS];
        size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(item, "n")->valuedouble;
        size_t c = (size_t)cJSON_GetObjectItemCaseSensitive(item, "c")->valuedouble, k = 0;
        float T = (float)cJSON_GetObjectItemCaseSensitive(item, "temperature")->valuedouble;
        float alpha = (float)cJSON_GetObjectItemCaseSensitive(item, "alpha")->valuedouble;
        const cJSON *v;
        char what[64];
        if (n > MAX_ROWS || c > MAX_CLASSES ||
            !read_floats(cJSON_GetObjectItemCaseSensitive(item, "student"), s, n * c) ||
            !read_floats(cJSON_GetObjectItemCaseSensitive(item, "teacher"), t, n * c)) {
            CHECK(0, "case %zu: malformed", count);
            continue;
        }
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(item, "labels")) labels[k++] =
            (uint32_t)v->valuedouble;
        k = 0;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(item, "grad")) grad[k++] =
            v->valuedouble;
        snprintf(what, sizeof what, "numpy case %zu (n %zu, c %zu, T %g, alpha %g)", count, n, c,
                 (double)T, (double)alpha);
        check_case(what, n, c, T, alpha, s, t, labels,
                   cJSON_GetObjectItemCaseSensitive(item, "loss")->valuedouble, grad);
        count++;
    }
    CHECK(count == 7, "%zu numpy cases, expected 7", count);
    cJSON_Delete(root);
    free(text);
}

/* Seeded cases, α 0 against cross-entropy, a teacher equal to the student, huge logits. */
static void properties(void) {
    check_lcg g = {20};
    float s[MAX_ROWS * MAX_CLASSES], t[MAX_ROWS * MAX_CLASSES], ga[MAX_ROWS * MAX_CLASSES],
        gb[MAX_ROWS * MAX_CLASSES];
    uint32_t labels[MAX_ROWS];
    size_t k, n = 7, c = 11, zero = 0;
    float a, b;
    for (k = 0; k < n * c; k++) {
        s[k] = ((float)(check_lcg_next(&g) >> 8) / 16777216.0f - 0.5f) * 12.0f;
        t[k] = ((float)(check_lcg_next(&g) >> 8) / 16777216.0f - 0.5f) * 12.0f;
    }
    for (k = 0; k < n; k++)
        labels[k] = check_lcg_next(&g) % (uint32_t)c;
    check_case("seeded T 3 alpha 0.6", n, c, 3.0f, 0.6f, s, t, labels, 0, NULL);
    check_case("seeded T 1.5 alpha 0.2", n, c, 1.5f, 0.2f, s, t, labels, 0, NULL);
    a = lathe_loss_distill(n, c, 4.0f, 0.0f, s, t, labels, ga);
    b = lathe_loss_softmax_cross_entropy(n, c, s, labels, gb);
    CHECK(bits32(a) == bits32(b), "alpha 0: loss %.9g, cross-entropy %.9g", (double)a, (double)b);
    CHECK_SAME_BITS("alpha 0: the gradient is cross-entropy's", ga, gb, n * c);
    a = lathe_loss_distill(n, c, 4.0f, 1.0f, s, s, labels, ga);
    for (k = 0; k < n * c; k++)
        zero += ga[k] == 0.0f;
    CHECK(a == 0.0f && zero == n * c,
          "a teacher equal to the student at alpha 1: loss %g, %zu of %zu zero", (double)a, zero,
          n * c);
    for (k = 0; k < n * c; k++)
        s[k] = k % 3 ? 1000.0f : -1000.0f, t[k] = k % 2 ? -1000.0f : 1000.0f;
    a = lathe_loss_distill(n, c, 0.01f, 0.5f, s, t, labels, ga);
    for (k = 0, zero = 0; k < n * c; k++)
        zero += ga[k] == ga[k] && fabsf(ga[k]) < 1e30f;
    CHECK(a == a && a < 1e30f && zero == n * c, "logits of ±1000 at T 0.01: loss %g", (double)a);
}

/* An experiment on the synthetic spiral: distill (the train.distill object's text, or NULL),
 * the model's prepare list, classes and batch size. */
static lathe_experiment *experiment(const char *distill, const char *prepare, size_t classes,
                                    size_t batch, const char *extra, lathe_error *err,
                                    lathe_status *st) {
    char text[2048];
    lathe_experiment *exp = NULL;
    snprintf(text, sizeof text,
             "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":7,"
             "\"data\":{\"synthetic\":\"spiral\",\"samples\":240,\"noise\":0.2,\"classes\":%zu},"
             "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"%s\"}],"
             "\"model\":{\"template\":\"mlp\",\"hidden\":[16]},"
             "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.02,\"batch_size\":%zu,"
             "\"epochs\":6%s%s%s}}",
             classes, prepare, batch, extra, distill ? ",\"distill\":" : "",
             distill ? distill : "");
    *st = lathe_experiment_parse(text, strlen(text), &exp, err);
    return exp;
}

/* A trainer (and its experiment and preparation, which the caller frees) of experiment(...). */
typedef struct net {
    lathe_experiment *exp;
    lathe_prepared *prep;
    lathe_trainer *t;
    lathe_table *table;
} net;

static net make(const char *distill, const char *prepare, size_t classes, size_t batch,
                const char *extra) {
    net m = {NULL, NULL, NULL, NULL};
    lathe_error err;
    lathe_status st;
    m.exp = experiment(distill, prepare, classes, batch, extra, &err, &st);
    CHECK(st == LATHE_OK, "experiment: %s", err.message);
    if (!m.exp) return m;
    CHECK(lathe_synthetic_table("spiral", 240, 0.2f, classes, 7, &m.table, &err) == LATHE_OK, "%s",
          err.message);
    CHECK(m.table && lathe_prepare(m.exp, m.table, &m.prep, &err) == LATHE_OK, "%s", err.message);
    CHECK(m.prep && lathe_trainer_create(m.exp, m.prep, &m.t, &err) == LATHE_OK, "%s", err.message);
    return m;
}

static void unmake(net *m) {
    lathe_trainer_destroy(m->t);
    lathe_prepared_destroy(m->prep);
    lathe_table_destroy(m->table);
    lathe_experiment_destroy(m->exp);
}

static void train_all(lathe_trainer *t, const char *what) {
    lathe_error err;
    while (!lathe_trainer_progress(t).done)
        CHECK(lathe_trainer_step(t, 1000, &err) == LATHE_OK, "%s: %s", what, err.message);
}

static void same_weights(const char *what, const lathe_trainer *a, const lathe_trainer *b,
                         int want_same) {
    char ha[65], hb[65];
    lathe_trainer_weights_sha256(a, ha);
    lathe_trainer_weights_sha256(b, hb);
    CHECK((strcmp(ha, hb) == 0) == want_same, "%s: %s and %s", what, ha, hb);
}

static void trainer(void) {
    static const char *d1 = "{\"teacher\":\"t.lathe.json\",\"temperature\":3,\"alpha\":1}";
    static const char *d0 = "{\"teacher\":\"t.lathe.json\",\"alpha\":0}";
    static const char *dh = "{\"teacher\":\"t.lathe.json\",\"temperature\":2,\"alpha\":0.7}";
    net teacher = make(NULL, "standardize", 3, 5, ""), plain = make(NULL, "standardize", 3, 16, "");
    net copy = make(d1, "standardize", 3, 16, ""), off = make(d0, "standardize", 3, 16, "");
    net on = make(dh, "standardize", 3, 16, "");
    lathe_error err;
    size_t n_params;
    if (!teacher.t || !plain.t || !copy.t || !off.t || !on.t) goto done;
    train_all(teacher.t, "teacher");
    /* the teacher's own weights at alpha 1: its logits are the student's, batch by batch */
    lathe_trainer_set_weights(copy.t, lathe_trainer_params(teacher.t, &n_params), NULL);
    CHECK(lathe_trainer_set_teacher(copy.t, teacher.t, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_trainer_step(copy.t, 7, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_trainer_progress(copy.t).last_batch_loss == 0.0f, "a copy of the teacher: loss %g",
          (double)lathe_trainer_progress(copy.t).last_batch_loss);
    same_weights("a copy of the teacher learns nothing", copy.t, teacher.t, 1);
    /* alpha 0: the plain run */
    CHECK(lathe_trainer_set_teacher(off.t, teacher.t, &err) == LATHE_OK, "%s", err.message);
    train_all(plain.t, "plain");
    train_all(off.t, "alpha 0");
    same_weights("alpha 0 trains as without train.distill", off.t, plain.t, 1);
    /* distilled: no allocation while stepping, other weights */
    CHECK(lathe_trainer_set_teacher(on.t, teacher.t, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_trainer_set_teacher(on.t, teacher.t, &err) == LATHE_ERR_INVALID &&
              strstr(err.message, "train.distill.teacher: the trainer already has one"),
          "a second teacher: '%s'", err.message);
    {
        unsigned long before = lathe_alloc_count();
        train_all(on.t, "distilled");
        CHECK(lathe_alloc_count() == before, "distilled steps allocated %lu blocks",
              lathe_alloc_count() - before);
    }
    same_weights("distillation changes the training", on.t, plain.t, 0);
    { /* out of memory in set_teacher: an error, no leak */
        net again = make(dh, "standardize", 3, 16, "");
        long live = lathe_alloc_live();
        lathe_alloc_fail_at(1);
        CHECK(again.t && lathe_trainer_set_teacher(again.t, teacher.t, &err) == LATHE_ERR_NOMEM,
              "out of memory: '%s'", err.message);
        lathe_alloc_fail_at(0);
        CHECK(lathe_alloc_live() == live, "out of memory leaked");
        unmake(&again);
    }
done:
    unmake(&teacher), unmake(&plain), unmake(&copy), unmake(&off), unmake(&on);
}

/* set_teacher's refusals: each a teacher the student cannot learn from. */
static void teacher_refusals(void) {
    static const char *d = "{\"teacher\":\"t.lathe.json\"}";
    net student = make(d, "standardize", 3, 16, "");
    net classes = make(NULL, "standardize", 4, 16, ""), scaled = make(NULL, "minmax", 3, 16, "");
    net binary = make(NULL, "standardize", 2, 16, ",\"loss\":\"binary_cross_entropy\"");
    net student2 = make(d, "standardize", 2, 16, ""), plain = make(NULL, "standardize", 3, 16, "");
    struct {
        const char *what;
        lathe_trainer *student, *teacher;
        lathe_status status;
        const char *message;
    } cases[] = {
        {"other classes", student.t, classes.t, LATHE_ERR_MISMATCH,
         "train.distill.teacher: the teacher has 4 classes, the data 3"},
        {"another preparation", student.t, scaled.t, LATHE_ERR_MISMATCH,
         "train.distill.teacher: the teacher's scaling step 1 differs from the experiment's"},
        {"one logit", student2.t, binary.t, LATHE_ERR_MISMATCH,
         "train.distill.teacher: the teacher has one logit"},
        {"no train.distill", plain.t, student.t, LATHE_ERR_INVALID,
         "train.distill: a teacher was given but the experiment has no train.distill section"},
    };
    size_t c;
    for (c = 0; c < sizeof cases / sizeof *cases; c++) {
        lathe_error err;
        lathe_status st;
        if (!cases[c].student || !cases[c].teacher) continue;
        st = lathe_trainer_set_teacher(cases[c].student, cases[c].teacher, &err);
        CHECK(st == cases[c].status && strstr(err.message, cases[c].message), "%s: %d '%s'",
              cases[c].what, st, err.message);
    }
    unmake(&student), unmake(&classes), unmake(&scaled), unmake(&binary), unmake(&student2),
        unmake(&plain);
}

/* Bad settings, refused when parsing with the field's path; a good one round-trips. */
static void settings(void) {
    static const char *const cases[][2] = {
        {"5", "train.distill: must be an object"},
        {"{}", "train.distill.teacher: missing (the teacher's model file"},
        {"{\"teacher\":3}", "train.distill.teacher: must be a string"},
        {"{\"teacher\":\"\"}", "train.distill.teacher: must name the teacher's model file"},
        {"{\"teacher\":\"t.lathe.json\",\"temperature\":0}",
         "train.distill.temperature: must be a number in [0.01, 100]"},
        {"{\"teacher\":\"t.lathe.json\",\"temperature\":-2}",
         "train.distill.temperature: must be a number in [0.01, 100]"},
        {"{\"teacher\":\"t.lathe.json\",\"temperature\":\"4\"}",
         "train.distill.temperature: must be a number"},
        {"{\"teacher\":\"t.lathe.json\",\"alpha\":1.5}",
         "train.distill.alpha: must be a number in [0, 1]"},
        {"{\"teacher\":\"t.lathe.json\",\"alpha\":-0.1}",
         "train.distill.alpha: must be a number in [0, 1]"},
        {"{\"teacher\":\"t.lathe.json\",\"temp\":2}", "train.distill.temp: unknown key"},
    };
    size_t c;
    lathe_error err;
    lathe_status st;
    lathe_experiment *exp;
    char *text = NULL;
    for (c = 0; c < sizeof cases / sizeof *cases; c++) {
        exp = experiment(cases[c][0], "standardize", 3, 16, "", &err, &st);
        CHECK(st == LATHE_ERR_INVALID && strstr(err.message, cases[c][1]), "%s: '%s'", cases[c][0],
              st == LATHE_OK ? "accepted" : err.message);
        lathe_experiment_destroy(exp);
    }
    exp = experiment("{\"teacher\":\"t.lathe.json\"}", "standardize", 2, 16,
                     ",\"loss\":\"binary_cross_entropy\"", &err, &st);
    CHECK(st == LATHE_ERR_INVALID &&
              strstr(err.message, "train.distill: needs softmax_cross_entropy"),
          "a binary student: '%s'", st == LATHE_OK ? "accepted" : err.message);
    lathe_experiment_destroy(exp);
    {
        static const char *curve =
            "{\"format\":\"lathe-experiment\",\"version\":1,\"data\":{\"synthetic\":\"curve\"},"
            "\"prepare\":[{\"op\":\"split\",\"test\":0.2}],\"model\":{\"template\":\"mlp\","
            "\"hidden\":[4]},"
            "\"train\":{\"distill\":{\"teacher\":\"t.lathe.json\"}}}";
        exp = NULL;
        st = lathe_experiment_parse(curve, strlen(curve), &exp, &err);
        CHECK(st == LATHE_ERR_INVALID &&
                  strstr(err.message, "train.distill: needs a classification task"),
              "a regression student: '%s'", st == LATHE_OK ? "accepted" : err.message);
        lathe_experiment_destroy(exp);
    }
    exp = experiment("{\"teacher\":\"../models/t.lathe.json\",\"temperature\":2.5}", "standardize",
                     3, 16, "", &err, &st);
    CHECK(st == LATHE_OK && exp->distill &&
              strcmp(exp->distill_teacher, "../models/t.lathe.json") == 0 &&
              exp->distill_temperature == 2.5f && exp->distill_alpha == 0.5f,
          "defaults: %s", st == LATHE_OK ? "wrong values" : err.message);
    if (exp && lathe_experiment_write(exp, &text, &err) == LATHE_OK) {
        lathe_experiment *back = NULL;
        CHECK(strstr(text, "\"distill\":\t{\n\t\t\t\"teacher\":\t\"../models/"
                           "t.lathe.json\",\n\t\t\t\"temperature\":\t2.5,"
                           "\n\t\t\t\"alpha\":\t0.5\n\t\t}") != NULL,
              "written:\n%s", text);
        CHECK(lathe_experiment_parse(text, strlen(text), &back, &err) == LATHE_OK &&
                  memcmp(back, exp, sizeof *exp) == 0,
              "the written experiment reads back otherwise");
        lathe_experiment_destroy(back);
    }
    lathe_free(text);
    lathe_experiment_destroy(exp);
    exp = experiment("{\"teacher\":\"t.lathe.json\"}", "standardize", 3, 16, "", &err, &st);
    CHECK(st == LATHE_OK && exp->distill_temperature == 4.0f && exp->distill_alpha == 0.5f,
          "the defaults");
    lathe_experiment_destroy(exp);
}

/* The session refuses to build train.distill without a teacher, naming the file. */
static void session(void) {
    char text[2048];
    lathe_session *s = NULL;
    lathe_error err;
    snprintf(text, sizeof text,
             "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":7,"
             "\"data\":{\"synthetic\":\"spiral\",\"samples\":120,\"classes\":3},"
             "\"prepare\":[{\"op\":\"split\",\"test\":0.2}],\"model\":{\"template\":\"mlp\","
             "\"hidden\":[4]},"
             "\"train\":{\"epochs\":1,\"distill\":{\"teacher\":\"teacher.lathe.json\"}}}");
    CHECK(lathe_session_open(text, strlen(text), NULL, &s, &err) == LATHE_OK, "%s", err.message);
    if (s)
        CHECK(lathe_session_build(s, NULL, &err) == LATHE_ERR_INVALID &&
                  strstr(err.message, "train.distill.teacher: no teacher model was loaded") &&
                  strstr(err.message, "'teacher.lathe.json'"),
              "no teacher: '%s'", err.message);
    lathe_session_destroy(s);
}

int main(void) {
    long live = lathe_alloc_live();
    vectors();
    properties();
    settings();
    trainer();
    teacher_refusals();
    session();
    CHECK(lathe_alloc_live() == live, "%ld blocks leaked", lathe_alloc_live() - live);
    return check_finish("test_distill");
}
