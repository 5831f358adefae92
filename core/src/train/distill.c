/* train.distill's set-up: the teacher network a trainer learns from, checked against the
 * trainer's data and given its logits buffer (the loss itself is lathe_loss_distill, and the
 * trainer's step runs the teacher: trainer.c). */
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/trainer.h"

#include "trainer_internal.h"

#define WHERE "train.distill.teacher: "

/* 1 when the n floats of a and b have the same bits (NaN fills included). */
static int same_floats(const float *a, const float *b, size_t n) {
    return (!a && !b) || (a && b && memcmp(a, b, n * sizeof(float)) == 0);
}

/* Whether step k of p changes nothing: an impute step (its fill is p->fill) or a scaling step
 * of shift 0 and scale 1 (a version 1 model file's step when its model had no scaler). */
static int identity_step(const lathe_prepared *p, size_t k) {
    size_t f;
    if (!p->steps[k].shift) return 1;
    for (f = 0; f < p->n_features; f++)
        if (p->steps[k].shift[f] != 0.0f || p->steps[k].scale[f] != 1.0f) return 0;
    return 1;
}

/* The index of the first step from k on that is not an identity step (n_steps: none). */
static size_t next_step(const lathe_prepared *p, size_t k) {
    while (k < p->n_steps && identity_step(p, k))
        k++;
    return k;
}

/* Whether the teacher's fitted preparation is the student's: the same features, by name, the
 * same fill and the same scaling steps in order, bit for bit (identity steps aside, and each
 * step's kind, which a version 1 model file does not keep: every scaling step maps x to
 * (x − shift)·scale). The teacher reads the student's prepared rows, so anything else would
 * feed it inputs it was not trained on. */
static lathe_status same_preparation(const lathe_prepared *mine, const lathe_prepared *theirs,
                                     lathe_error *err) {
    size_t k, j, F = mine->n_features, step = 0;
    if (memcmp(mine->image, theirs->image, sizeof mine->image) != 0)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               WHERE "the teacher's input is %s, the data's %s: distillation "
                                     "needs the same input shape",
                               theirs->image[0] ? "another image shape" : "a feature vector",
                               mine->image[0] ? "an image" : "a feature vector");
    if (theirs->n_features != F)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               WHERE "the teacher reads %zu prepared features, the data has "
                                     "%zu: distillation needs the same features",
                               theirs->n_features, F);
    for (k = 0; k < F; k++)
        if (strcmp(mine->feature_names[k], theirs->feature_names[k]) != 0)
            return lathe_error_set(err, LATHE_ERR_MISMATCH,
                                   WHERE "feature %zu is '%s' for the teacher, '%s' in the "
                                         "data: distillation needs the same features in the "
                                         "same order",
                                   k, theirs->feature_names[k], mine->feature_names[k]);
    if (!same_floats(mine->fill, theirs->fill, F))
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               WHERE "the teacher fills missing cells with other values: "
                                     "prepare the data as the teacher's experiment did (the "
                                     "same data, seed, split and prepare list)");
    for (k = next_step(mine, 0), j = next_step(theirs, 0);;
         k = next_step(mine, k + 1), j = next_step(theirs, j + 1), step++) {
        if (k == mine->n_steps && j == theirs->n_steps) return LATHE_OK;
        if (k == mine->n_steps || j == theirs->n_steps ||
            !same_floats(mine->steps[k].shift, theirs->steps[j].shift, F) ||
            !same_floats(mine->steps[k].scale, theirs->steps[j].scale, F))
            return lathe_error_set(err, LATHE_ERR_MISMATCH,
                                   WHERE "the teacher's scaling step %zu differs from the "
                                         "experiment's (another step, or fitted on other "
                                         "training rows): prepare the data as the teacher's "
                                         "experiment did (the same data, seed, split and "
                                         "prepare list)",
                                   step + 1);
    }
}

lathe_status lathe_trainer_set_teacher(lathe_trainer *t, lathe_trainer *teacher, lathe_error *err) {
    const lathe_prepared *mine = t->data, *theirs = teacher->data;
    size_t k;
    lathe_status st;
    if (!t->exp->distill)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "train.distill: a teacher was given but the experiment has no "
                               "train.distill section");
    if (t->teacher)
        return lathe_error_set(err, LATHE_ERR_INVALID, WHERE "the trainer already has one");
    if (theirs->task != LATHE_TASK_CLASSIFICATION || teacher->exp->raw_outputs)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               WHERE "the teacher is not a classification model: distillation "
                                     "learns a teacher's class probabilities");
    if (teacher->binary)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               WHERE "the teacher has one logit (binary_cross_entropy): "
                                     "distillation needs a softmax_cross_entropy teacher, one "
                                     "logit per class");
    if (theirs->n_classes != mine->n_classes || teacher->n_outputs != t->n_outputs)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               WHERE "the teacher has %zu classes, the data %zu: distillation "
                                     "needs the same classes",
                               theirs->n_classes, mine->n_classes);
    for (k = 0; k < mine->n_classes; k++)
        if (strcmp(mine->class_names[k], theirs->class_names[k]) != 0)
            return lathe_error_set(err, LATHE_ERR_MISMATCH,
                                   WHERE "class %zu is '%s' for the teacher, '%s' in the data: "
                                         "distillation needs the same classes in the same order",
                                   k, theirs->class_names[k], mine->class_names[k]);
    if ((st = same_preparation(mine, theirs, err)) != LATHE_OK) return st;
    t->teacher_logits = lathe_calloc(t->batch_size * t->n_outputs, sizeof(float));
    if (!t->teacher_logits)
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory creating the trainer");
    t->teacher = teacher;
    t->memory_bytes += t->batch_size * t->n_outputs * sizeof(float);
    return LATHE_OK;
}
