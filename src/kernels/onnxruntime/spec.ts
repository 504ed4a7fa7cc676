/**
 * What the onnxruntime kernel runs for a model: for a dense model, the ONNX graph forwardpool
 * writes from the weights in memory (input `x`, output `y`); for an ONNX graph model, its own file.
 */
import { writeOnnx } from '../../model/formats/onnx-write.js';
import type { Model } from '../../model/model.js';
import type { OnnxGraphModel } from '../../model/onnx-graph.js';
import type { OrtRunSpec } from './runner.js';

const specs = new WeakMap<object, OrtRunSpec>();

/** The ONNX bytes of a dense model as forwardpool writes them (see formats/onnx-write.ts). */
export function mlpOnnxBytes(model: Model): Uint8Array {
  return writeOnnx({
    dtype: model.dtype,
    layers: model.layers.map((l, i) => {
      const activation = { name: l.activation.name, alpha: l.activation.alpha, beta: l.activation.beta };
      return l.type === 'layer_norm'
        ? { type: 'layer_norm' as const, inputs: l.inputs, units: l.units, activation, ...model.getLayerNorm(i) }
        : { type: 'dense' as const, inputs: l.inputs, units: l.units, activation, ...model.getWeights(i) };
    }),
  });
}

/** The run spec for `model` (made once per model; its bytes live in shared memory). */
export function ortSpecOf(model: Model | OnnxGraphModel): OrtRunSpec {
  let spec = specs.get(model);
  if (spec === undefined) {
    if (model.kind === 'onnx-graph') spec = model.runSpec();
    else {
      const bytes = mlpOnnxBytes(model);
      const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
      shared.set(bytes);
      spec = {
        id: model.id, bytes: shared, dtype: model.dtype, inputName: 'x', inputs: model.inputs, fixedBatch: 0,
        outputs: [{ name: 'y', cols: model.outputs, type: model.dtype, isLabel: false }],
      };
    }
    specs.set(model, spec);
  }
  return spec;
}
