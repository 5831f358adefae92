/* lathe: train, evaluate and inspect models from the command line. The same experiment file
 * gives the same weights here as in the browser workbench. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lathe/version.h"


static void usage(FILE *out) {
    fputs("usage: lathe <command> [options]\n"
          "\n"
          "Train and inspect models; the same experiment gives the same weights here as in\n"
          "the browser workbench.\n"
          "\n"
          "commands:\n"
          "  run EXPERIMENT      train an experiment, print its metrics and weights hash\n"
          "  train EXPERIMENT    resume from a checkpoint, or fine-tune a model's weights\n"
          "  cv EXPERIMENT       cross-validate: every fold, mean ± std of validation metrics\n"
          "  eval MODEL DATA     evaluate a model file on a labelled CSV\n"
          "  predict MODEL DATA  predict every row of a CSV (CSV or JSON out)\n"
          "  export MODEL        the model as C source or ONNX (--format c|onnx --out PATH)\n"
          "  import FILE.onnx    an ONNX network as a model file (--out MODEL)\n"
          "  quantize MODEL      an int8 model, measured against the float one (--out FILE)\n"
          "  compress-report MODEL [VARIANT...]  a model and its smaller variants, one table\n"
          "  inspect MODEL       validate a model file and describe it\n"
          "  profile FILE        describe a CSV file column by column\n"
          "  datasets            list the built-in data sets\n"
          "  reference-check DIR check the core against PyTorch reference vectors in DIR\n"
          "  bench WHAT          speed of this build: kernels, models or epoch\n"
          "\n"
          "options:\n"
          "  -h, --help          show this help (or `lathe COMMAND --help`)\n"
          "  --version           print the version\n"
          "\n"
          "exit status: 0 success, 1 a failed run (e.g. divergence), 2 bad usage or input\n"
          "\n"
          "examples:\n"
          "  lathe run examples/iris.experiment.json --out iris.lathe.json\n"
          "  lathe predict iris.lathe.json new_flowers.csv --out predictions.csv\n"
          "  lathe run EXPERIMENT --checkpoint run.ck; lathe train EXPERIMENT --resume run.ck\n",
          out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lathe %s\n", LATHE_VERSION);
        return CLI_OK;
    }
    if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "cv") == 0) return cmd_cv(argc - 1, argv + 1);
    if (strcmp(argv[1], "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(argv[1], "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(argv[1], "predict") == 0) return cmd_predict(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0) return cmd_export(argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0) return cmd_import(argc - 1, argv + 1);
    if (strcmp(argv[1], "quantize") == 0) return cmd_quantize(argc - 1, argv + 1);
    if (strcmp(argv[1], "compress-report") == 0) return cmd_compress_report(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0) return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(argv[1], "profile") == 0) return cmd_profile(argc - 1, argv + 1);
    if (strcmp(argv[1], "datasets") == 0) return cmd_datasets(argc - 1, argv + 1);
    if (strcmp(argv[1], "reference-check") == 0) return cmd_reference_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "lathe: '%s' is not a command; see `lathe --help`\n", argv[1]);
    return CLI_USAGE;
}
