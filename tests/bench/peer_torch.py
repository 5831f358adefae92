"""The native peer of `lathe bench models`: PyTorch as Debian ships it (python3-torch), one
thread, on the same cases, shapes and timing method as native_cli/cmd_bench.c and
tests/bench/measure.js (groups of >= 2 ms, repetitions of >= S seconds after a warm-up one,
the median). OPENBLAS_CORETYPE in the environment reaches OpenBLAS, which the dense layers use.

usage: /usr/bin/python3 tests/bench/peer_torch.py models|epoch [--only LIST] [--seconds S]
       [--reps R] [--data DIR] [--label NAME]
Prints one JSON object on stdout."""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

# one thread everywhere: OpenBLAS (the dense layers) and OpenMP (oneDNN's convolutions)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402 (after the thread settings)

torch.set_num_threads(1)

CASES = [
    ("gemm_64", "GFLOPS", 64), ("gemm_128", "GFLOPS", 128), ("gemm_256", "GFLOPS", 256),
    ("gemm_512", "GFLOPS", 512), ("gemm_1024", "GFLOPS", 1024),
    ("mlp_train", "samples/s", 64), ("mlp_infer_1", "ms", 1), ("mlp_infer_256", "ms", 256),
    ("cnn_train", "samples/s", 32), ("cnn_infer_1", "ms", 1), ("cnn_infer_256", "ms", 256),
    ("mlp_startup", "ms", 64), ("cnn_startup", "ms", 32),
]
ROWS = 1024


def selected(only, case_id):
    if not only:
        return True
    for p in filter(None, only.split(",")):
        if case_id == p or case_id.startswith(p + "_") or (p == "startup" and case_id.endswith("_startup")):
            return True
    return False


def measure_units(unit, seconds, reps):
    """Units per second of unit(), one rate per repetition, after a warm-up repetition."""
    group = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(group):
            unit()
        if time.perf_counter() - t0 >= 0.002 or group >= 1 << 30:
            break
        group *= 2
    rates = []
    for r in range(reps + 1):
        t0 = time.perf_counter()
        units = 0
        while True:
            for _ in range(group):
                unit()
            units += group
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        if r > 0:
            rates.append(units / dt)
    return rates


def figure(unit, n, rate):
    if unit == "GFLOPS":
        return rate * 2 * n ** 3 * 1e-9
    if unit == "samples/s":
        return rate * n
    return 1e3 / rate


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(784, 10))


def trainer(model, batches):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    state = {"i": 0}

    def step():
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def unit_for(case_id, n):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(ROWS, 784, generator=g)
    y = torch.randint(0, 10, (ROWS,), generator=g)
    if case_id.startswith("gemm_"):
        a, b, out = torch.rand(n, n, generator=g), torch.rand(n, n, generator=g), torch.empty(n, n)
        return lambda: torch.mm(a, b, out=out)
    if case_id in ("mlp_train", "cnn_train"):
        shape = (n, 1, 28, 28) if case_id == "cnn_train" else (n, 784)
        batches = [(x[s:s + n].reshape(shape), y[s:s + n]) for s in range(0, ROWS, n)]
        return trainer(mlp() if case_id == "mlp_train" else cnn(), batches)
    if "_infer_" in case_id:
        model = (mlp() if case_id.startswith("mlp") else cnn()).eval()
        xb = x[:n].reshape((n, 784) if case_id.startswith("mlp") else (n, 1, 28, 28))

        def infer():
            with torch.no_grad():
                return torch.softmax(model(xb), dim=1)
        return infer
    if case_id.endswith("_startup"):
        make = mlp if case_id.startswith("mlp") else cnn
        return lambda: torch.optim.Adam(make().parameters(), lr=1e-3)
    return None


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    data = torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8)
    return data.reshape(shape)


def epoch(data_dir, only):
    base = os.path.join(data_dir, "fashion-mnist")
    if not os.path.exists(os.path.join(base, "train-images-idx3-ubyte.gz")):
        return {"skipped": base + " is missing (run ./scripts/fetch_data.sh)", "cases": []}
    t0 = time.perf_counter()
    xtr = read_idx(os.path.join(base, "train-images-idx3-ubyte.gz")).float().div(255)
    ytr = read_idx(os.path.join(base, "train-labels-idx1-ubyte.gz")).long()
    xte = read_idx(os.path.join(base, "t10k-images-idx3-ubyte.gz")).float().div(255)
    yte = read_idx(os.path.join(base, "t10k-labels-idx1-ubyte.gz")).long()
    load = time.perf_counter() - t0
    out = []
    for is_cnn in (False, True):
        case_id = "cnn_epoch" if is_cnn else "mlp_epoch"
        if not selected(only, case_id):
            continue
        b = 32 if is_cnn else 64
        shape = (-1, 1, 28, 28) if is_cnn else (-1, 784)
        torch.manual_seed(42)
        model = cnn() if is_cnn else mlp()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        order = torch.randperm(xtr.shape[0])
        t1 = time.perf_counter()
        for s in range(0, xtr.shape[0], b):
            idx = order[s:s + b]
            opt.zero_grad()
            loss_fn(model(xtr[idx].reshape(shape)), ytr[idx]).backward()
            opt.step()
        seconds = time.perf_counter() - t1
        t2 = time.perf_counter()
        with torch.no_grad():
            correct = sum(int((model(xte[s:s + 256].reshape(shape)).argmax(1) == yte[s:s + 256]).sum())
                          for s in range(0, xte.shape[0], 256))
        out.append({"id": case_id, "train_rows": xtr.shape[0], "batch": b, "load_seconds": load,
                    "epoch_seconds": seconds, "samples_per_second": xtr.shape[0] / seconds,
                    "test_rows": xte.shape[0], "test_seconds": time.perf_counter() - t2,
                    "test_accuracy": correct / xte.shape[0]})
    return {"cases": out}


def blas_library():
    """The BLAS library this process loaded (Debian's alternatives pick it)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line}
        return sorted(os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p) for p in libs)
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["models", "epoch"])
    ap.add_argument("--only")
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--data", default="data/builtin")
    ap.add_argument("--label", default="pytorch")
    o = ap.parse_args()
    if not (0.01 <= o.seconds <= 60 and 1 <= o.reps <= 64):
        ap.error("--seconds is 0.01 to 60, --reps 1 to 64")
    result = {"engine": o.label, "version": torch.__version__, "threads": torch.get_num_threads(),
              "blas": blas_library(),
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "")}
    if o.mode == "epoch":
        result.update(epoch(o.data, o.only))
    else:
        result.update({"seconds_per_rep": o.seconds, "reps": o.reps, "cases": []})
        for case_id, unit, n in CASES:
            if not selected(o.only, case_id):
                continue
            fn = unit_for(case_id, n)
            values = [figure(unit, n, r) for r in measure_units(fn, o.seconds, o.reps)]
            result["cases"].append({"id": case_id, "unit": unit, "median": statistics.median(values),
                                    "values": values})
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
