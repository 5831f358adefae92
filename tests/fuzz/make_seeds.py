#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (seed-*; regression inputs are
named regress-* and never touched here). Small real samples come from the built-in data in
data/builtin (run ./scripts/fetch_data.sh first); the rest is written by hand below. Model
files are made by training small examples with a `lathe` binary, when one is given.

    python3 tests/fuzz/make_seeds.py [--lathe build/native/lathe]
"""
import csv
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "data", "builtin")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def clear_seeds(keep):
    for target in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        if target in keep:
            continue
        for name in os.listdir(os.path.join(CORPUS, target)):
            if name.startswith("seed-"):
                os.remove(os.path.join(CORPUS, target, name))


def rows_of(name, picks):
    """The header and the picked data rows (0-based) of a built-in CSV, as CSV text."""
    with open(os.path.join(DATA, name), newline="") as f:
        rows = list(csv.reader(f))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(rows[0])
    for i in picks:
        w.writerow(rows[1 + i])
    return out.getvalue()


def rename(text, old, new):
    head, rest = text.split("\n", 1)
    return ",".join(new if c == old else c for c in head.split(",")) + "\n" + rest


def idx(type_code, dims, payload):
    return struct.pack(">BBBB", 0, 0, type_code, len(dims)) + b"".join(
        struct.pack(">I", d) for d in dims) + payload


def idx_slice(path, count):
    """The first count items of an IDX file (gzipped or raw) with the header rewritten."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndims = raw[3]
    dims = list(struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims]))
    item = 1
    for d in dims[1:]:
        item *= d
    body = raw[4 + 4 * ndims:4 + 4 * ndims + count * item]
    return idx(raw[2], [count] + dims[1:], body)


def blob(data):
    return struct.pack(">H", len(data)) + data


MODEL_EXAMPLES = ["iris", "xor", "curve", "breast_cancer", "wine", "digits_cnn"]
# a chain of fitted steps (impute, standardize, minmax): a version 2 model file
MODEL_EXTRA = {"chain": "tests/data/models/chain.experiment.json"}


def model_seeds(lathe):
    """Trains small examples with lathe and keeps their model files as seeds."""
    experiments = {name: os.path.join("examples", name + ".experiment.json")
                   for name in MODEL_EXAMPLES}
    experiments.update(MODEL_EXTRA)
    with tempfile.TemporaryDirectory() as tmp:
        for name, experiment in experiments.items():
            out = os.path.join(tmp, name + ".lathe.json")
            subprocess.run([lathe, "run", experiment,
                            "--out", out], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            with open(out, "rb") as f:
                write("model", name + ".lathe.json", f.read())


def main():
    lathe = None
    if len(sys.argv) == 3 and sys.argv[1] == "--lathe":
        lathe = os.path.abspath(sys.argv[2])
    elif len(sys.argv) != 1:
        sys.exit("usage: make_seeds.py [--lathe PATH_TO_LATHE]")
    if not os.path.isdir(DATA):
        sys.exit("make_seeds: data/builtin is missing; run ./scripts/fetch_data.sh first")
    clear_seeds([] if lathe else ["model"])

    # --- csv: real samples, and the RFC 4180 features by hand
    iris = rows_of("iris.csv", [0, 1, 2, 3, 50, 51, 52, 53, 100, 101, 102, 103])
    wine = rows_of("wine.csv", [0, 1, 60, 61, 130, 131])
    diabetes = rows_of("diabetes.csv", range(10))
    cancer = rows_of("breast_cancer.csv", [0, 1, 2, 20])
    digits = rows_of("digits.csv", range(5))
    for name, text in [("iris.csv", iris), ("wine.csv", wine), ("diabetes.csv", diabetes),
                       ("breast_cancer.csv", cancer), ("digits.csv", digits)]:
        write("csv", name, text)
    write("csv", "quotes.csv", 'name,note,n\r\n"Smith, J","said ""hi""\nthen left",1\r\n'
          '"x",,2\r\n')
    write("csv", "semicolon-missing.csv", "a;b;c\n1;NA;x\n2;;y\nN/A;3;?\nnull;nan;z\n")
    write("csv", "tabs-bool.csv", "p\tq\tr\ntrue\t1.5e3\tyes\nFALSE\t-.5\tno\n\n")
    write("csv", "bom-noeol.csv", "\ufeffk,v\n1,2\n3,4")
    write("csv", "utf8.csv", "ville,°C\nZürich,-3.5\n東京,12\nΑθήνα,20\n")
    write("csv", "lone-cr.csv", "a,b\r1,2\r3,4\r")

    # --- idx: real image and label slices, and every type code
    mnist = os.path.join(DATA, "mnist-10k")
    fashion = os.path.join(DATA, "fashion-mnist")
    mnist_images = idx_slice(os.path.join(mnist, "images-idx3-ubyte"), 2)
    mnist_labels = idx_slice(os.path.join(mnist, "labels-idx1-ubyte"), 2)
    fashion_images = idx_slice(os.path.join(fashion, "t10k-images-idx3-ubyte.gz"), 1)
    fashion_labels = idx_slice(os.path.join(fashion, "t10k-labels-idx1-ubyte.gz"), 3)
    write("idx", "mnist-images", mnist_images)
    write("idx", "mnist-labels", mnist_labels)
    write("idx", "fashion-images", fashion_images)
    write("idx", "fashion-labels", fashion_labels)
    write("idx", "i8", idx(0x09, [2, 3], bytes([0, 1, 127, 128, 255, 7])))
    write("idx", "i16", idx(0x0B, [3], struct.pack(">hhh", -32768, 0, 32767)))
    write("idx", "i32", idx(0x0C, [2, 1], struct.pack(">ii", -2147483648, 2147483647)))
    write("idx", "f32", idx(0x0D, [2, 2], struct.pack(">ffff", 0.5, -1.0, 3.25e38, 1e-45)))
    write("idx", "f64", idx(0x0E, [1, 1, 2], struct.pack(">dd", 1e300, -2.5)))
    write("idx", "u8-4d", idx(0x08, [1, 2, 2, 2], bytes(range(8))))

    # --- image: byte 0 = parts | names << 2 | (classes - 1) << 3 | train << 7, then blobs
    def digits_part(picks):
        with open(os.path.join(DATA, "digits.csv"), newline="") as f:
            rows = list(csv.reader(f))[1:]
        pixels = b"".join(bytes(int(float(v)) for v in rows[i][:64]) for i in picks)
        labels = bytes(int(rows[i][64]) for i in picks)
        return idx(0x08, [len(picks), 8, 8], pixels), idx(0x08, [len(picks)], labels)

    im, lb = digits_part(range(12))
    write("image", "digits-1part-named", bytes([1 | 4 | (9 << 3) | 128]) + blob(im) + blob(lb))
    im2, lb2 = digits_part(range(12, 18))
    write("image", "digits-2parts", bytes([2 | 128]) + blob(im) + blob(lb) + blob(im2) +
          blob(lb2))
    write("image", "mnist-1part", bytes([1 | 128]) + blob(mnist_images) + blob(mnist_labels))
    rgb = idx(0x08, [4, 3, 4, 4], bytes((i * 37) % 256 for i in range(4 * 3 * 16)))
    write("image", "rgb-4d-named", bytes([1 | 4 | (1 << 3) | 128]) + blob(rgb) +
          blob(idx(0x08, [4], bytes([0, 1, 0, 1]))))
    flt = idx(0x0D, [3, 2, 2], struct.pack(">" + "f" * 12, *[i / 7 for i in range(12)]))
    write("image", "float-3parts", bytes([3 | 128]) + (blob(flt) +
          blob(idx(0x08, [3], bytes([0, 1, 2])))) * 3)

    # --- experiment: every example
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if name.endswith(".experiment.json"):
            shutil.copy(os.path.join(ROOT, "examples", name),
                        os.path.join(CORPUS, "experiment", "seed-" + name))

    # --- pipeline: byte 0 picks the experiment (0 mlp, 1 regression, 2 logistic, 3 layers)
    iris_y = rename(rename(iris, "species", "y"), "sepal_length", "x")
    diabetes_y = rename(diabetes, "progression", "y")
    wine_y = rename(wine, "cultivar", "y")
    holes = "x,z,y\n1,a,0\n,b,1\n3,NA,0\n4,a,1\n5,?,0\n6,b,1\n7,a,0\n8,b,1\n"
    for k in range(4):
        write("pipeline", "iris-%d.csv" % k, bytes([k]) + iris_y.encode())
        write("pipeline", "holes-%d.csv" % k, bytes([k]) + holes.encode())
    write("pipeline", "diabetes-1.csv", bytes([1]) + diabetes_y.encode())
    write("pipeline", "wine-3.csv", bytes([3]) + wine_y.encode())
    write("pipeline", "bool-0.csv", bytes([0]) + b"a;y\n1;true\n2;false\n3;yes\n4;no\n")

    # --- model: trained model files (only with --lathe; otherwise the old ones stay)
    if lathe:
        model_seeds(lathe)
    else:
        print("make_seeds: no --lathe given: the model seeds were left as they are",
              file=sys.stderr)


if __name__ == "__main__":
    main()
