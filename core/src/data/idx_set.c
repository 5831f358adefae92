/* An IDX set (lathe/idx.h): the parts a front end read, a byte per pixel, the fingerprint of
 * their stored bytes, and the table they make. */
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/idx.h"
#include "lathe/sha256.h"

#define MAX_PARTS 8
#define MAX_CLASSES 256

struct lathe_idx_set {
    size_t n_parts;
    lathe_idx *images[MAX_PARTS], *labels[MAX_PARTS];
    int has_test;      /* the last part is the source's test split */
    lathe_sha256 hash; /* of the stored bytes added so far */
    size_t n_classes;
    char *classes[MAX_CLASSES];
};

lathe_status lathe_idx_set_create(lathe_idx_set **out, lathe_error *err) {
    *out = lathe_calloc(1, sizeof **out);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory for an image set");
    lathe_sha256_init(&(*out)->hash);
    return LATHE_OK;
}

static void free_classes(lathe_idx_set *set) {
    size_t k;
    for (k = 0; k < set->n_classes; k++)
        lathe_free(set->classes[k]);
    set->n_classes = 0;
}

void lathe_idx_set_destroy(lathe_idx_set *set) {
    size_t p;
    if (!set) return;
    for (p = 0; p < set->n_parts; p++) {
        lathe_idx_destroy(set->images[p]);
        lathe_idx_destroy(set->labels[p]);
    }
    free_classes(set);
    lathe_free(set);
}

/* Reads one file of a part; want_images says which kind it must be. */
static lathe_status read_file(const lathe_idx_file *file, int want_images, lathe_idx **out,
                              lathe_error *err) {
    const char *name = file->name    ? file->name
                       : want_images ? "the images file"
                                     : "the labels file";
    lathe_status st = lathe_idx_read(file->idx, file->idx_n, out, err);
    if (st != LATHE_OK) {
        lathe_error_prefix(err, name);
        return st;
    }
    if (want_images && (*out)->ndims == 1)
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "%s: holds labels (one dimension), not images: are the images and "
                             "labels files swapped?",
                             name);
    else if (!want_images && (*out)->ndims != 1)
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "%s: holds %zu-dimensional data, not labels: are the images and "
                             "labels files swapped?",
                             name, (*out)->ndims);
    if (st != LATHE_OK) {
        lathe_idx_destroy(*out);
        *out = NULL;
    }
    return st;
}

lathe_status lathe_idx_set_add(lathe_idx_set *set, const lathe_idx_file *images,
                               const lathe_idx_file *labels, int is_test, lathe_error *err) {
    lathe_idx *im = NULL, *lb = NULL;
    lathe_status st;
    if (set->has_test)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the test files must be the last part of an image set");
    if (set->n_parts == MAX_PARTS)
        return lathe_error_set(err, LATHE_ERR_LIMIT, "an image set has at most %d parts",
                               MAX_PARTS);
    if ((st = read_file(images, 1, &im, err)) != LATHE_OK) return st;
    if ((st = read_file(labels, 0, &lb, err)) != LATHE_OK) {
        lathe_idx_destroy(im);
        return st;
    }
    if (lb->dims[0] != im->dims[0]) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "%s has %u images but %s has %u labels",
                             images->name ? images->name : "the images file", im->dims[0],
                             labels->name ? labels->name : "the labels file", lb->dims[0]);
        lathe_idx_destroy(im);
        lathe_idx_destroy(lb);
        return st;
    }
    lathe_sha256_update(&set->hash, images->stored, images->stored_n);
    lathe_sha256_update(&set->hash, labels->stored, labels->stored_n);
    set->images[set->n_parts] = im;
    set->labels[set->n_parts] = lb;
    set->n_parts++;
    set->has_test = is_test != 0;
    return LATHE_OK;
}

lathe_status lathe_idx_set_classes(lathe_idx_set *set, const char *const *names, size_t n,
                                   lathe_error *err) {
    size_t k;
    free_classes(set);
    if (n > MAX_CLASSES)
        return lathe_error_set(err, LATHE_ERR_LIMIT, "an image set has at most %d classes",
                               MAX_CLASSES);
    for (k = 0; k < n; k++) {
        set->classes[k] = lathe_strdup(names[k]);
        if (!set->classes[k]) {
            free_classes(set);
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory for the class names");
        }
        set->n_classes = k + 1;
    }
    return LATHE_OK;
}

size_t lathe_idx_set_rows(const lathe_idx_set *set) {
    size_t p, rows = 0;
    for (p = 0; p < set->n_parts; p++)
        rows += set->images[p]->dims[0];
    return rows;
}

uint64_t lathe_image_table_bytes(uint64_t rows, uint64_t pixels, int u8) {
    uint64_t row;
    if (pixels > (UINT64_MAX >> 4)) return UINT64_MAX >> 2; /* sizes from a header: saturate */
    row = pixels * (u8 ? 1 : sizeof(float)) + sizeof(float); /* pixels, label */
    return rows > (UINT64_MAX >> 2) / row ? UINT64_MAX >> 2 : rows * row;
}

uint64_t lathe_idx_set_table_bytes(const lathe_idx_set *set) {
    size_t p;
    int bytes = 1;
    if (set->n_parts == 0) return 0;
    for (p = 0; p < set->n_parts; p++)
        bytes = bytes && set->images[p]->bytes;
    return lathe_image_table_bytes(lathe_idx_set_rows(set),
                                   set->images[0]->count / set->images[0]->dims[0], bytes);
}

void lathe_idx_set_image(const lathe_idx_set *set, size_t image[3]) {
    const lathe_idx *im = set->n_parts ? set->images[0] : NULL;
    image[0] = im ? (im->ndims == 4 ? im->dims[1] : 1) : 0;
    image[1] = im ? im->dims[im->ndims - 2] : 0;
    image[2] = im ? im->dims[im->ndims - 1] : 0;
}

void lathe_idx_set_sha256(const lathe_idx_set *set, char hex[65]) {
    lathe_sha256 copy = set->hash;
    uint8_t digest[32];
    lathe_sha256_final(&copy, digest);
    lathe_sha256_to_hex(digest, hex);
}

lathe_status lathe_idx_set_table(const lathe_idx_set *set, lathe_table **out, size_t image[3],
                                 size_t *test_from, lathe_error *err) {
    size_t starts[MAX_PARTS];
    lathe_status st;
    *out = NULL;
    if (set->n_parts == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "the image set has no files");
    st = lathe_image_table((const lathe_idx *const *)set->images,
                           (const lathe_idx *const *)set->labels, set->n_parts,
                           set->n_classes ? (const char *const *)set->classes : NULL,
                           set->n_classes, out, image, starts, err);
    if (st != LATHE_OK) return st;
    *test_from = set->has_test ? starts[set->n_parts - 1] : (*out)->rows;
    return LATHE_OK;
}
