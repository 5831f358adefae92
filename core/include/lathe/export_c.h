/* C source export: a trained model as one dependency-free C99 header and source file that
 * predict, on raw features, what lathe_model_predict_table predicts, bit for bit.
 *
 * The source holds the weights as static const words (their exact bits), the fitted
 * preparation (fill, then each scaling step), the network's forward pass in the core's
 * canonical float order, and the core's own transcendentals (mathf.c), all static; one static
 * arena sized at generation time; no malloc, no stdio, no libm. Build it with
 * -ffp-contract=off (as the core is) for the same bits:
 *
 *   int NAME_predict(const float *raw, float *out);
 *
 * raw holds NAME_N_INPUTS values, one per input column in NAME_input_names order: a number
 * (NaN when missing: the fitted fill, when there is one), or for a categorical column the
 * category's index (NAME_category), NaN when missing, -1 when not seen in training. out gets
 * NAME_N_OUTPUTS values: the class probabilities (NAME_class_names order) or the predicted
 * value. Returns 0, or 1 + the input index of a missing value the model cannot fill. */
#ifndef LATHE_EXPORT_C_H
#define LATHE_EXPORT_C_H

#include "lathe/model.h"
#include "lathe/status.h"

/* 1 when name is a C identifier (letters, digits, '_', not starting with a digit), at most 63
 * characters: the prefix of the exported symbols and the files' base name. */
int lathe_export_c_name_ok(const char *name);

/* Writes the header (*header) and source (*source, which includes "NAME.h") of model as
 * NUL-terminated text; the caller frees both with lathe_free. On an error both are NULL. */
lathe_status lathe_export_c(lathe_model *model, const char *name, char **header, char **source,
                            lathe_error *err);

/* What the C export of model takes: *flash_data the bytes of its constant arrays (the weights,
 * the fitted preparation, the statistics; flash, not counting the code and the name tables)
 * and *ram those of its static buffers (the arena and an int8 layer's input). */
lathe_status lathe_export_c_footprint(lathe_model *model, size_t *flash_data, size_t *ram,
                                      lathe_error *err);

#endif
