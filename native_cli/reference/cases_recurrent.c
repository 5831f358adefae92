/* GRU and LSTM files (gru.json, lstm.json): the core has no recurrent layer yet, so every
 * case is reported NOT IMPLEMENTED (not a pass, not a failure). The file is still read far
 * enough to name its cases, so a malformed file is reported as such. */
#include "cases.h"
#include "reference_check.h"

static void not_implemented_cases(ref_run *c, const cJSON *root, const char *what) {
    const cJSON *cases = ref_array_field(c, root, "", "cases"), *cs;
    size_t ci = 0;
    if (c->bad) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP];
        const char *name;
        ref_join_index(base, "", "cases", ci++);
        name = ref_string_field(c, cs, base, "name");
        if (!name) return;
        ref_not_implemented(c, name, "the core has no %s layer yet", what);
    }
    if (ci == 0) ref_malformed(c, "cases", "no cases");
}

void ref_check_gru(ref_run *c, const cJSON *root) { not_implemented_cases(c, root, "GRU"); }

void ref_check_lstm(ref_run *c, const cJSON *root) { not_implemented_cases(c, root, "LSTM"); }
