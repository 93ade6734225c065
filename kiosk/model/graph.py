"""More of MoveNet than its final output: the keypoint heatmap, the offset field and the cell the
model chose, added to the graph's outputs in memory at load time.

MoveNet's decoder (inside the model) picks one cell of a G×G grid per keypoint (G = 48 for
Lightning, 64 for Thunder) and adds that cell's offset vector; the int8 result moves in steps of
about 1/244 of the input square.  The model computes more than that: a heatmap per keypoint
(the sigmoid, in steps of 1/256) and an offset vector at every cell.  Handing those to the
caller lets it average the neighbouring cells' votes (kiosk.model.decode), finer than any one vote.

The file and its sha256 stay the official ones: the graph is read with the TFLite schema that
ships with ai-edge-litert (or TensorFlow), three tensors are appended to the subgraph's outputs,
and the bytes go to the interpreter as `model_content`.  The tensors are found by their role in
the decoder, never by index:

- the offsets: the params of the GATHER_ND that reads [1, G, G, 2K] at one cell per keypoint
  (the regression from the person's centre has the same shape but is read at the centre alone);
- the heatmap: the params of the GATHER_ND that reads the scores, [1, G, G, K], at one cell per
  keypoint, or the int8 sigmoid it was requantized from (the finer of the two);
- the chosen cell: the ARG_MAX over [1, G·G, K].

tflite-runtime ships no schema; with it, the schema comes from ai-edge-litert installed beside it
(`pip install '.[tflite]'` does that).  A model without these tensors, or no schema at all, gives
the plain output, and the caller logs it once.
"""

from __future__ import annotations

import importlib
import struct
from dataclasses import dataclass
from types import ModuleType
from typing import Any

SCHEMA_MODULES = ("ai_edge_litert.schema_py_generated", "tensorflow.lite.python.schema_py_generated")


@dataclass(frozen=True, slots=True)
class DecoderTaps:
    """Tensor indices of the decoder's inner tensors, valid in the extended model."""

    heatmap_index: int
    """(1, G, G, K) keypoint heatmap."""
    offsets_index: int
    """(1, G, G, 2K) offset field in cells: channel 2k is keypoint k's y, 2k + 1 its x."""
    cells_index: int
    """(1, K) int32: the flat cell index (row · G + column) the model chose for each keypoint."""
    grid: int
    """G: cells per side."""


@dataclass(frozen=True, slots=True)
class ExtendedModel:
    content: bytes
    """The model with the taps among its outputs."""
    taps: DecoderTaps


def load_schema() -> ModuleType | None:
    """The TFLite flatbuffer schema's Python module, from whichever package ships one."""
    for name in SCHEMA_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def find_taps(schema: ModuleType, model: Any, keypoints: int) -> DecoderTaps | None:
    """The decoder's heatmap, offsets and chosen cells in a parsed model (schema's ModelT), or None."""
    if len(model.subgraphs) != 1:
        return None
    graph = model.subgraphs[0]
    ops = schema.BuiltinOperator

    def code(op: Any) -> int:
        opcode = model.operatorCodes[op.opcodeIndex]
        return int(max(opcode.builtinCode, opcode.deprecatedBuiltinCode))

    def shape(index: int) -> list[int]:
        tensor = graph.tensors[index]
        return [] if tensor.shape is None else [int(v) for v in tensor.shape]

    producer = {int(out): op for op in graph.operators for out in op.outputs}
    offsets = heatmap = cells = None
    grid = argmax_cells = 0
    for op in graph.operators:
        inputs = [int(i) for i in op.inputs]
        if code(op) == ops.GATHER_ND and len(inputs) == 2:
            params = shape(inputs[0])
            per_keypoint = shape(inputs[1])[:1] == [keypoints]  # one cell per keypoint, not the centre's
            if per_keypoint and len(params) == 4 and params[0] == 1 and params[1] == params[2]:
                if params[3] == 2 * keypoints:
                    offsets, grid = inputs[0], params[1]
                elif params[3] == keypoints:
                    heatmap = inputs[0]
        elif code(op) == ops.ARG_MAX and inputs and len(shape(inputs[0])) == 3:
            (_, cells_count, channels) = shape(inputs[0])
            if channels == keypoints:
                cells, argmax_cells = int(op.outputs[0]), cells_count
    if offsets is None or heatmap is None or cells is None or argmax_cells != grid * grid:
        return None
    # The scores are read from a requantized copy; the sigmoid itself has the finer steps.
    made_by = producer.get(heatmap)
    if made_by is not None and code(made_by) == ops.QUANTIZE:
        source = int(made_by.inputs[0])
        source_producer = producer.get(source)
        if source_producer is not None and code(source_producer) == ops.LOGISTIC:
            heatmap = source
    return DecoderTaps(heatmap, offsets, cells, grid)


def extend_model(content: bytes, keypoints: int) -> ExtendedModel | None:
    """`content` with the decoder's taps added to its outputs, or None (no schema, no such tensors)."""
    schema = load_schema()
    if schema is None:
        return None
    import flatbuffers  # a dependency of every package that ships the schema

    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content, 0))
    except (struct.error, IndexError, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return None  # not a TFLite flatbuffer: the interpreter will say so in its own words
    taps = find_taps(schema, model, keypoints)
    if taps is None:
        return None
    graph = model.subgraphs[0]
    outputs = [int(i) for i in graph.outputs]
    graph.outputs = outputs + [i for i in (taps.heatmap_index, taps.offsets_index, taps.cells_index)
                               if i not in outputs]
    builder = flatbuffers.Builder(len(content) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return ExtendedModel(bytes(builder.Output()), taps)
