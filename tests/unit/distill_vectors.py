#!/usr/bin/python3
"""Writes tests/unit/distill_vectors.json, the ground truth of test_distill: the knowledge
distillation loss of PyTorch's usual recipe (Hinton et al. 2015),

    loss = alpha * T^2 * F.kl_div(F.log_softmax(s / T), F.softmax(t / T), reduction='batchmean')
           + (1 - alpha) * F.cross_entropy(s, labels),

written here in numpy, float64, independently of Lathe, with its gradient with respect to the
student logits s taken by central differences of that float64 loss (h = 1e-6), not from the
closed form the C code uses. The logits are float32 values (stored as the shortest decimal that
reads back to them), so C reads exactly the inputs numpy used.

Run with Debian's python3 (python3-numpy): /usr/bin/python3 tests/unit/distill_vectors.py
"""
import json
import os

import numpy as np


def log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def loss(s, t, labels, temperature, alpha):
    n = s.shape[0]
    log_q = log_softmax(s / temperature)
    log_p = log_softmax(t / temperature)
    p = np.exp(log_p)
    # KLDivLoss(reduction='batchmean')(input=log_q, target=p): sum(p * (log p - log q)) / n
    kl = (p * (log_p - log_q)).sum() / n
    ce = -log_softmax(s)[np.arange(n), labels].mean()
    return alpha * temperature * temperature * kl + (1.0 - alpha) * ce


def case(rng, n, c, temperature, alpha, scale, same=False):
    s = (rng.standard_normal((n, c)) * scale).astype(np.float32)
    t = s.copy() if same else (rng.standard_normal((n, c)) * scale).astype(np.float32)
    labels = rng.integers(0, c, n)
    s64, t64 = s.astype(np.float64), t.astype(np.float64)
    value = loss(s64, t64, labels, temperature, alpha)
    grad = np.zeros_like(s64)
    h = 1e-6
    for i in range(n):
        for j in range(c):
            up, down = s64.copy(), s64.copy()
            up[i, j] += h
            down[i, j] -= h
            grad[i, j] = (loss(up, t64, labels, temperature, alpha) - loss(down, t64, labels, temperature, alpha)) / (2 * h)
    return {
        "n": n,
        "c": c,
        "temperature": temperature,
        "alpha": alpha,
        "student": [float(repr(np.float32(v))) for v in s.ravel()],
        "teacher": [float(repr(np.float32(v))) for v in t.ravel()],
        "labels": [int(v) for v in labels],
        "loss": float(value),
        "grad": [float(v) for v in grad.ravel()],
    }


def main():
    rng = np.random.default_rng(20)
    cases = [
        case(rng, 4, 5, 4.0, 0.5, 3.0),
        case(rng, 3, 10, 1.0, 1.0, 2.0),
        case(rng, 5, 3, 2.5, 0.3, 1.0),
        case(rng, 2, 7, 0.5, 0.9, 4.0),
        case(rng, 6, 2, 10.0, 0.0, 2.0),
        case(rng, 3, 4, 3.0, 0.75, 20.0),
        case(rng, 2, 6, 4.0, 1.0, 2.0, same=True),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distill_vectors.json")
    with open(out, "w") as f:
        json.dump({"generator": "tests/unit/distill_vectors.py (numpy, float64)", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
