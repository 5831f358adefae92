/* lathe reference-check DIR [--json]: the command line of the reference check. The harness
 * (the vector reader, the cases and the runner) is in native_cli/reference/. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "reference/cases.h"
#include "reference/reference_check.h"

#define SHORT_USAGE "usage: lathe reference-check DIR [--json]  (see --help)\n"

static void usage(FILE *out) {
    size_t k;
    fputs("usage: lathe reference-check DIR [--json]\n"
          "\n"
          "Checks the core against PyTorch reference vectors: reads every *.json file in DIR\n"
          "(in name order; the format of shared/reference/vectors/README.md), recognises its\n"
          "kind by its \"op\", runs every case through the core and compares every output with\n"
          "|got - want| <= atol + rtol*|want|: rtol 1e-5, atol 1e-6 for single ops and\n"
          "optimiser steps; rtol 1e-4, atol 1e-5 for conv2d, batch norm and training.\n"
          "\n"
          "File kinds:\n",
          out);
    for (k = 0; ref_file_kinds[k].name; k++)
        fprintf(out, "  %s (op \"%s...\"%s%s)\n", ref_file_kinds[k].name,
                ref_file_kinds[k].op_prefix, ref_file_kinds[k].root_key ? ", with " : "",
                ref_file_kinds[k].root_key ? ref_file_kinds[k].root_key : "");
    fputs("\n"
          "One line per case:\n"
          "  PASS FILE:CASE (max err E in OUTPUT; N outputs)\n"
          "  FAIL FILE:CASE: why\n"
          "  NOT IMPLEMENTED FILE:CASE (why)   the core has no such op yet\n"
          "  FAIL FILE: why                    malformed or unreadable file, unknown kind, or\n"
          "                                    a file that gave no case\n"
          "then \"P passed, F failed, N not implemented\".\n"
          "\n"
          "options:\n"
          "  --json       print one JSON report (results, errors, counts) instead\n"
          "  -h, --help   show this help\n"
          "\n"
          "exit status: 0 no case failed (NOT IMPLEMENTED cases are not failures), 1 a case or\n"
          "file failed, 2 bad usage, DIR missing (\"reference vectors not found at DIR\"), or an\n"
          "unreadable or malformed file (named on stderr with the JSON path of the problem)\n",
          out);
}

int cmd_reference_check(int argc, char **argv) {
    const char *dir = NULL;
    int a, json = 0, options_done = 0;
    for (a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            usage(stdout);
            return CLI_OK;
        } else if (!options_done && strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "lathe reference-check: unknown option '%s'\n%s", arg, SHORT_USAGE);
            return CLI_USAGE;
        } else if (dir) {
            fprintf(stderr, "lathe reference-check: one DIR only ('%s' and '%s')\n%s", dir, arg,
                    SHORT_USAGE);
            return CLI_USAGE;
        } else {
            dir = arg;
        }
    }
    if (!dir) {
        fprintf(stderr, "lathe reference-check: no DIR given\n%s", SHORT_USAGE);
        return CLI_USAGE;
    }
    return ref_check_dir(dir, json);
}
