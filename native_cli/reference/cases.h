/* The file kinds the reference check knows: each is recognised by its "op" (and, where two
 * kinds share an op prefix, a key of the root), and checked by one function that runs the
 * file's cases through the core and reports each with ref_case_begin … ref_case_end or
 * ref_not_implemented (reference_check.h). The table is in reference_check.c, in the order
 * the kinds are tried. Hidden MLP layers are ReLU (as in the vectors' "model" text). */
#ifndef LATHE_REFERENCE_CASES_H
#define LATHE_REFERENCE_CASES_H

#include "cJSON.h"
#include "vectors.h"

typedef struct ref_file_kind {
    const char *name;      /* the kind, as --help lists it */
    const char *op_prefix; /* the file's "op" starts with this */
    const char *root_key;  /* and its root has this key (NULL: any) */
    void (*check)(ref_run *c, const cJSON *root);
} ref_file_kind;

extern const ref_file_kind ref_file_kinds[];

/* cases_ops.c: single ops and losses */
void ref_check_linear(ref_run *c, const cJSON *root);
void ref_check_activations(ref_run *c, const cJSON *root);
void ref_check_softmax_ce(ref_run *c, const cJSON *root);
void ref_check_mse(ref_run *c, const cJSON *root);
void ref_check_conv2d(ref_run *c, const cJSON *root);
void ref_check_pool2d(ref_run *c, const cJSON *root);
void ref_check_batchnorm(ref_run *c, const cJSON *root);
void ref_check_losses2(ref_run *c, const cJSON *root);

/* cases_train.c: optimisers, schedules, training */
void ref_check_optimizers(ref_run *c, const cJSON *root);
void ref_check_mlp_steps(ref_run *c, const cJSON *root);
void ref_check_schedules(ref_run *c, const cJSON *root);
void ref_check_trainer_run(ref_run *c, const cJSON *root);

/* cases_recurrent.c: GRU and LSTM (not in the core yet) */
void ref_check_gru(ref_run *c, const cJSON *root);
void ref_check_lstm(ref_run *c, const cJSON *root);

#endif
