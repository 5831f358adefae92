"""Writes an ONNX file laid out as torch.onnx.export writes nn.Sequential(nn.Linear(4, 6),
nn.ReLU(), nn.Linear(6, 3)) at opset 13 with a dynamic batch (IR 7, producer pytorch 1.13.1:
Gemm(transB=1) on the initialisers "0.weight", "0.bias", Relu, Gemm on "2.weight", "2.bias"),
holding the PyTorch weights W1, b1, W2, b2 of the reference vectors' mlp_train_steps.json.

usage: /usr/bin/python3 tests/deploy/torch_mlp.py mlp_train_steps.json OUT.onnx
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NAMES = {"W1": "0.weight", "b1": "0.bias", "W2": "2.weight", "b2": "2.bias"}


def main(vectors, out):
    p = json.load(open(vectors))["inputs"]

    def tensor(k):
        a = np.array(p[k]["data"], dtype=np.float32).reshape(p[k]["shape"])
        return numpy_helper.from_array(a, name=NAMES[k])

    nodes = [
        helper.make_node("Gemm", ["input", "0.weight", "0.bias"], ["/0/Gemm_output_0"],
                         name="/0/Gemm", alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Relu", ["/0/Gemm_output_0"], ["/1/Relu_output_0"], name="/1/Relu"),
        helper.make_node("Gemm", ["/1/Relu_output_0", "2.weight", "2.bias"], ["output"],
                         name="/2/Gemm", alpha=1.0, beta=1.0, transB=1),
    ]
    graph = helper.make_graph(
        nodes, "torch_jit",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        [tensor(k) for k in ("W1", "b1", "W2", "b2")])
    model = helper.make_model(graph, producer_name="pytorch", producer_version="1.13.1",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
