/**
 * scikit-learn layouts as skl2onnx writes them: a classifier's two outputs (`label` from an
 * ArgMax / ArrayFeatureExtractor / Cast / Reshape tail, and `probabilities`), the binary
 * Concat(1 − p, p) form, the ai.onnx.ml Scaler in front of the network, and the refusals that
 * explain what to change (ZipMap, Normalizer).
 */
import { DataType, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-schema.js';
import { attrFloats, attrInt, desc, fail, nodeName, readLabelsTensor } from './onnx-read.js';
import type { Chain } from './onnx-fold.js';
import type { Tensor } from './onnx-read.js';

const TAIL_OPS: ReadonlySet<string> = new Set(['ArgMax', 'ArrayFeatureExtractor', 'Cast', 'Reshape', 'Squeeze', 'Flatten', 'Identity']);

export interface Tail { nodes: OnnxNode[]; output: string; labels?: string[]; note?: string }

const isFloat = (o: OnnxValueInfo) => {
  const t = o.type?.tensorType?.elemType;
  return t === DataType.FLOAT || t === DataType.DOUBLE;
};

/**
 * Splits off a classifier's label tail. With one output nothing changes; with `label` and
 * `probabilities` the probabilities become the model's outputs and the classes its labels.
 */
export function classifierTail(outputs: readonly OnnxValueInfo[], nodes: readonly OnnxNode[], rawConstantOf: (name: string) => OnnxTensor | undefined): Tail {
  const zip = nodes.find((n) => n.opType === 'ZipMap');
  if (zip) {
    fail(`${desc(zip)} turns the probabilities into a list of maps, which is not a tensor of rows; convert with skl2onnx's zipmap=False (options={id(model): {'zipmap': False}} or to_onnx(..., options={'zipmap': False})) so "probabilities" stays a [N, classes] tensor`);
  }
  if (outputs.length !== 2) return { nodes: [...nodes], output: outputs[0]?.name ?? '' };
  const probs = outputs.find(isFloat);
  const label = outputs.find((o) => !isFloat(o));
  if (!probs || !label) fail(`the graph has 2 outputs (${outputs.map((o) => `"${o.name}"`).join(', ')}); forwardpool reads two only as a classifier's label and probabilities`);
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output?.forEach((o) => producer.set(o, i)));
  const tail = new Set<number>();
  let value = label!.name ?? '';
  let classes: string[] | undefined;
  let sawArgMax = false;
  while (value !== probs!.name) {
    const i = producer.get(value);
    const node = i === undefined ? undefined : nodes[i];
    if (!node || !TAIL_OPS.has(node.opType ?? '')) {
      return fail(`the graph's output "${label!.name}" is not computed from "${probs!.name}" by ArgMax, ArrayFeatureExtractor, Cast and Reshape${node ? ` (${desc(node)} is in the way)` : ''}; forwardpool reads two outputs only as a classifier's label and probabilities`);
    }
    tail.add(i!);
    if (node.opType === 'ArrayFeatureExtractor') {
      const t = rawConstantOf(node.input?.[0] ?? '');
      if (!t) fail(`${desc(node)}: its classes "${node.input?.[0]}" are not a constant`);
      classes = readLabelsTensor(t!, `${desc(node)} classes`);
      value = node.input?.[1] ?? '';
    } else {
      if (node.opType === 'ArgMax') {
        const axis = attrInt(node, 'axis', 0);
        if (axis !== 1 && axis !== -1) fail(`${desc(node)} has axis=${axis}; a classifier's label is the argmax over each row (axis 1)`);
        sawArgMax = true;
      }
      value = node.input?.[0] ?? '';
    }
  }
  if (!sawArgMax) fail(`the graph's output "${label!.name}" has no ArgMax over "${probs!.name}"; forwardpool reads two outputs only as a classifier's label and probabilities`);
  const ops = [...tail].sort((a, b) => a - b).map((i) => nodes[i]!.opType).join(', ');
  return {
    nodes: nodes.filter((_, i) => !tail.has(i)),
    output: probs!.name ?? '',
    ...(classes ? { labels: classes } : {}),
    note: `output "${label!.name}" (${ops}) read as the labels ${classes ? classes.join(', ') : '(class indices)'} of output "${probs!.name}"`,
  };
}

/**
 * The binary form Concat(1 − p, p) (or Concat(p, 1 − p)) after a one-unit sigmoid layer, at
 * nodes[n] = Sub(1, p): the layer becomes two units with softmax, since softmax([0, z]) =
 * [1 − sigmoid(z), sigmoid(z)]. Returns the number of nodes read, or 0 when this is not the form.
 */
export function binaryPair(n: number, current: string, nodes: readonly OnnxNode[], chain: Chain, constantOf: (name: string) => Tensor | undefined): number {
  const sub = nodes[n]!;
  const concat = nodes[n + 1];
  if (sub.opType !== 'Sub' || sub.input?.[1] !== current || concat?.opType !== 'Concat') return 0;
  const one = constantOf(sub.input?.[0] ?? '');
  if (!one || one.values.length !== 1 || one.values[0] !== 1) return 0;
  const q = sub.output?.[0] ?? '';
  const ins = concat.input ?? [];
  const order = ins.length === 2 && ins[0] === q && ins[1] === current ? 'neg-first' : ins.length === 2 && ins[0] === current && ins[1] === q ? 'pos-first' : undefined;
  if (!order) return 0;
  const axis = attrInt(concat, 'axis', 1);
  if (axis !== 1 && axis !== -1) fail(`${desc(concat)} has axis=${axis}; the binary probabilities are joined per row (axis 1)`);
  const last = chain.lastLayer();
  if (!last || last.kind !== 'dense' || last.N !== 1 || last.act?.name !== 'sigmoid') {
    fail(`${desc(concat)} joins 1 − p and p, but p is not one sigmoid unit of a dense layer; forwardpool reads this form only as a binary classifier's probabilities`);
  }
  const l = last as Extract<typeof last, { kind: 'dense' }>;
  const W = new Float64Array(l.K * 2);
  const z = order === 'neg-first' ? 1 : 0; // the column that carries the logit
  for (let k = 0; k < l.K; k++) W[k * 2 + z] = l.W[k]!;
  const b = new Float64Array(2);
  b[z] = l.b[0]!;
  Object.assign(l, { N: 2, W, b, act: { name: 'softmax' } });
  chain.width = 2;
  chain.notes.push(`nodes ${nodeName(sub)} and ${nodeName(concat)} (1 − p, p) read as a 2-unit softmax in layer ${chain.layers.length - 1}`);
  return 2;
}

/** ai.onnx.ml operators in front of or inside the network. Returns true when it was handled. */
export function mlOperator(node: OnnxNode, chain: Chain): boolean {
  switch (node.opType) {
    case 'Scaler': {
      // y = (x - offset) * scale
      const offset = Float64Array.from(attrFloats(node, 'offset') ?? [0]);
      const scale = Float64Array.from(attrFloats(node, 'scale') ?? [1]);
      const n = Math.max(offset.length, scale.length);
      const c = new Float64Array(n);
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        a[i] = scale[scale.length === 1 ? 0 : i]!;
        c[i] = -offset[offset.length === 1 ? 0 : i]! * a[i]!;
      }
      chain.affine(a, c, ['Scaler'], desc(node));
      return true;
    }
    case 'Normalizer':
      return fail(`${desc(node)} divides each row by its own norm, which is not an affine map of the features, so it cannot be folded into a dense layer; train without it or scale the features beforehand`);
    default:
      return false;
  }
}
