/* A minimal ONNX model writer: just enough protobuf (onnx.proto3's ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto) to build the benchmark graphs for
 * onnxruntime-web, with no dependency. Field numbers are onnx.proto's. Tensors are float32
 * (data_type 1) stored as raw little-endian bytes (raw_data). */
'use strict';

/* ---- protobuf wire format: varint (type 0), 32-bit (type 5), length-delimited (type 2) ---- */
function varint(value) {
  const out = [];
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n; /* int64 two's complement */
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function key(field, wireType) {
  return varint((field << 3) | wireType);
}
function fieldVarint(field, value) {
  return [...key(field, 0), ...varint(value)];
}
function fieldBytes(field, bytes) {
  return [...key(field, 2), ...varint(bytes.length), ...bytes];
}
function fieldString(field, text) {
  return fieldBytes(field, [...Buffer.from(text, 'utf8')]);
}
function fieldFloat(field, value) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return [...key(field, 5), ...b];
}

/* ---- ONNX messages ---- */
const FLOAT = 1; /* TensorProto.DataType */

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9). */
function tensor(name, dims, data) {
  const raw = Buffer.from(new Float32Array(data).buffer);
  return [
    ...dims.flatMap((d) => fieldVarint(1, d)),
    ...fieldVarint(2, FLOAT),
    ...fieldString(8, name),
    ...fieldBytes(9, [...raw]),
  ];
}

/** AttributeProto: name (1), f (2), i (3), ints (8), type (20: FLOAT 1, INT 2, INTS 7). */
function attribute(name, value) {
  const a = fieldString(1, name);
  if (Array.isArray(value)) return [...a, ...value.flatMap((v) => fieldVarint(8, v)), ...fieldVarint(20, 7)];
  if (Number.isInteger(value)) return [...a, ...fieldVarint(3, value), ...fieldVarint(20, 2)];
  return [...a, ...fieldFloat(2, value), ...fieldVarint(20, 1)];
}

/** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
function node(opType, inputs, outputs, attrs = {}) {
  return [
    ...inputs.flatMap((i) => fieldString(1, i)),
    ...outputs.flatMap((o) => fieldString(2, o)),
    ...fieldString(3, `${opType}_${outputs[0]}`),
    ...fieldString(4, opType),
    ...Object.entries(attrs).flatMap(([k, v]) => fieldBytes(5, attribute(k, v))),
  ];
}

/** ValueInfoProto of a float tensor; a dimension is a number or a symbolic name. */
function valueInfo(name, dims) {
  /* TensorShapeProto.Dimension: dim_value (1) or dim_param (2) */
  const shape = dims.flatMap((d) => fieldBytes(1, typeof d === 'number' ? fieldVarint(1, d) : fieldString(2, d)));
  /* TypeProto.Tensor: elem_type (1), shape (2); TypeProto: tensor_type (1) */
  const tensorType = [...fieldVarint(1, FLOAT), ...fieldBytes(2, shape)];
  return [...fieldString(1, name), ...fieldBytes(2, fieldBytes(1, tensorType))];
}

/**
 * The bytes of a ModelProto: ir_version (1) 8, opset_import (8) of the default domain at
 * `opset`, producer_name (2), graph (7). graph: { nodes: [node(...)], initializers:
 * [tensor(...)], inputs: [valueInfo(...)], outputs: [valueInfo(...)] }.
 */
function model(graph, opset = 17) {
  /* GraphProto: node (1), name (2), initializer (5), input (11), output (12) */
  const g = [
    ...graph.nodes.flatMap((n) => fieldBytes(1, n)),
    ...fieldString(2, 'bench'),
    ...graph.initializers.flatMap((t) => fieldBytes(5, t)),
    ...graph.inputs.flatMap((v) => fieldBytes(11, v)),
    ...graph.outputs.flatMap((v) => fieldBytes(12, v)),
  ];
  /* OperatorSetIdProto: domain (1) "", version (2) */
  const opsetId = [...fieldString(1, ''), ...fieldVarint(2, opset)];
  return Uint8Array.from([
    ...fieldVarint(1, 8),
    ...fieldString(2, 'lathe-bench'),
    ...fieldBytes(7, g),
    ...fieldBytes(8, opsetId),
  ]);
}

module.exports = { tensor, node, valueInfo, model };
