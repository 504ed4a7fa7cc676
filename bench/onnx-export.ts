/**
 * Writes a forwardpool Model as an ONNX graph (Gemm or LayerNormalization + activation nodes), so
 * onnxruntime runs the very same weights. Opset 17 (LayerNormalization), 18 when a Mish is needed.
 */
import { ModelProto } from '../src/model/formats/onnx-schema.js';
import type { Model } from '../src/index.js';

const OP: Record<string, string> = {
  relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax', log_softmax: 'LogSoftmax',
  softplus: 'Softplus', softsign: 'Softsign', elu: 'Elu', selu: 'Selu', leaky_relu: 'LeakyRelu',
  hard_swish: 'HardSwish', mish: 'Mish',
};

export function toOnnx(model: Model): Uint8Array {
  const elemType = model.dtype === 'float64' ? 11 : 1;
  const nodes: object[] = [];
  const initializer: object[] = [];
  let current = 'x';
  const raw = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  model.layers.forEach((l, i) => {
    if (l.type === 'layer_norm') {
      const { scale, bias, epsilon } = model.getLayerNorm(i);
      initializer.push({ name: `s${i}`, dims: [l.units], dataType: elemType, rawData: raw(scale) });
      initializer.push({ name: `b${i}`, dims: [l.units], dataType: elemType, rawData: raw(bias) });
      nodes.push({ opType: 'LayerNormalization', input: [current, `s${i}`, `b${i}`], output: [`g${i}`], name: `ln${i}`,
        attribute: [{ name: 'axis', type: 2, i: -1 }, { name: 'epsilon', type: 1, f: epsilon }] });
    } else {
      const { weights, bias } = model.getWeights(i);
      initializer.push({ name: `W${i}`, dims: [l.inputs, l.units], dataType: elemType, rawData: raw(weights) });
      initializer.push({ name: `b${i}`, dims: [l.units], dataType: elemType, rawData: raw(bias) });
      nodes.push({ opType: 'Gemm', input: [current, `W${i}`, `b${i}`], output: [`g${i}`], name: `gemm${i}` });
    }
    current = `g${i}`;
    const act = l.activation.name;
    if (act !== 'identity') {
      const op = OP[act];
      if (!op) throw new Error(`toOnnx: no ONNX op for ${act}`);
      const alpha = l.activation.params.alpha;
      const attribute = act === 'leaky_relu' || act === 'elu' ? [{ name: 'alpha', type: 1, f: alpha }] : [];
      nodes.push({ opType: op, input: [current], output: [`a${i}`], name: `act${i}`, attribute });
      current = `a${i}`;
    }
  });
  const msg = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: model.layers.some((l) => l.activation.name === 'mish') ? 18 : 17 }],
    producerName: 'forwardpool-bench',
    graph: {
      name: 'mlp', node: nodes, initializer,
      input: [{ name: 'x', type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'N' }, { dimValue: model.inputs }] } } } }],
      output: [{ name: current, type: { tensorType: { elemType } } }],
    },
  });
  return ModelProto.encode(msg).finish();
}
