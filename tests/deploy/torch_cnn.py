"""Writes an ONNX file laid out as torch.onnx.export writes a small CNN for 8 x 8 grey images,
nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
nn.Linear(64, 10)), at opset 13 with a dynamic batch (IR 7, producer pytorch 1.13.1: Conv with
PyTorch's explicit attributes, Relu, MaxPool, Flatten, Gemm(transB=1); initialisers
"0.weight", "0.bias", "4.weight", "4.bias"), its weights drawn as PyTorch's default init
(uniform in ±1/sqrt(fan_in)) from numpy's seeded generator.

usage: /usr/bin/python3 tests/deploy/torch_cnn.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(out):
    rng = np.random.RandomState(0)

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)

    inits = [
        numpy_helper.from_array(uniform((4, 1, 3, 3), 9), name="0.weight"),
        numpy_helper.from_array(uniform((4,), 9), name="0.bias"),
        numpy_helper.from_array(uniform((10, 64), 64), name="4.weight"),
        numpy_helper.from_array(uniform((10,), 64), name="4.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "0.weight", "0.bias"], ["/0/Conv_output_0"], name="/0/Conv",
                         dilations=[1, 1], group=1, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["/0/Conv_output_0"], ["/1/Relu_output_0"], name="/1/Relu"),
        helper.make_node("MaxPool", ["/1/Relu_output_0"], ["/2/MaxPool_output_0"], name="/2/MaxPool",
                         ceil_mode=0, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2]),
        helper.make_node("Flatten", ["/2/MaxPool_output_0"], ["/3/Flatten_output_0"], name="/3/Flatten", axis=1),
        helper.make_node("Gemm", ["/3/Flatten_output_0", "4.weight", "4.bias"], ["output"], name="/4/Gemm",
                         alpha=1.0, beta=1.0, transB=1),
    ]
    graph = helper.make_graph(
        nodes, "torch_jit",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, producer_name="pytorch", producer_version="1.13.1",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv[1])
