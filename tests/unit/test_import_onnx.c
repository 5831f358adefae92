/* The ONNX importer under memory pressure and on damaged bytes: every allocation of reading
 * and importing a Lathe export (an image CNN with batch norm, and one with missing-cell fill
 * and a binary head) and a PyTorch export (Transpose + MatMul) fails in turn, each failure is
 * LATHE_ERR_NOMEM and leaks nothing, and the import then succeeds with the same bytes; every
 * prefix of a file is refused with a message (or read), never a crash or a leak. The files are
 * the fuzz target's seeds (tests/fuzz/corpus/onnx_import). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/import_onnx.h"

static unsigned char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long size;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1);
    *n = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    return buf;
}

/* Fails allocation 1, 2, … of the import until it succeeds; its text must be the first's. */
static void oom_sweep(const char *name, const unsigned char *bytes, size_t n) {
    char *want = NULL, *notes = NULL;
    lathe_error err;
    unsigned long nth;
    int done = 0;
    CHECK(lathe_import_onnx(bytes, n, NULL, &want, &notes, &err) == LATHE_OK, "%s: %s", name, err.message);
    lathe_free(notes);
    for (nth = 1; nth < 200000 && !done && want; nth++) {
        char *got = NULL, *got_notes = NULL;
        long before = lathe_alloc_live();
        lathe_status st;
        lathe_alloc_fail_at(nth);
        st = lathe_import_onnx(bytes, n, NULL, &got, &got_notes, &err);
        lathe_alloc_fail_at(0);
        if (st == LATHE_OK) {
            done = 1;
            CHECK(strcmp(got, want) == 0, "%s: the import after %lu failures differs", name, nth);
        } else {
            CHECK(st == LATHE_ERR_NOMEM, "%s: allocation %lu failing gave '%s'", name, nth, err.message);
        }
        lathe_free(got);
        lathe_free(got_notes);
        CHECK(lathe_alloc_live() == before, "%s: allocation %lu failing leaked %ld blocks", name, nth,
              lathe_alloc_live() - before);
    }
    CHECK(done, "%s: the import never succeeded", name);
    lathe_free(want);
}

/* Every prefix of the file: read or refused with a message; nothing leaks. */
static void prefixes(const char *name, const unsigned char *bytes, size_t n) {
    size_t k;
    for (k = 0; k < n; k += k < 64 ? 1 : 37) {
        lathe_onnx_network *net = NULL;
        lathe_error err;
        long before = lathe_alloc_live();
        lathe_status st = lathe_onnx_network_read(bytes, k, &net, &err);
        if (st != LATHE_OK) CHECK(err.message[0] != '\0', "%s: %zu bytes refused without a message", name, k);
        lathe_onnx_network_destroy(net);
        CHECK(lathe_alloc_live() == before, "%s: %zu bytes leaked", name, k);
    }
}

int main(void) {
    static const char *const seeds[] = {"seed-digits_cnn.onnx", "seed-breast_cancer_binary.onnx",
                                        "seed-torch-Linear_no_bias.onnx"};
    size_t i;
    for (i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        char path[256];
        size_t n = 0;
        unsigned char *bytes;
        snprintf(path, sizeof path, "tests/fuzz/corpus/onnx_import/%s", seeds[i]);
        bytes = read_file(path, &n);
        CHECK(bytes != NULL, "cannot read %s", path);
        if (!bytes) continue;
        oom_sweep(seeds[i], bytes, n);
        prefixes(seeds[i], bytes, n);
        free(bytes);
    }
    return check_finish("test_import_onnx");
}
