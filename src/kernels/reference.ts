/**
 * A naive float64 forward pass, written for clarity rather than speed, with its own plain
 * activation formulas: the oracle that tests hold the fast kernels to.
 */
import { erf } from './activations.js';
import { referenceLayerNorm } from './layer-norm.js';

export interface ReferenceLayer {
  /** Set for a layer-norm layer: then `weights` holds gamma (units values) and `bias` beta. */
  norm?: { eps: number };
  inputs: number;
  units: number;
  weights: ArrayLike<number>; // row-major inputs x units
  bias: ArrayLike<number>;
  activation: string; // canonical name
  alpha: number;
  beta: number;
}


function elementwise(name: string, x: number, alpha: number, beta: number): number {
  switch (name) {
    case 'identity': return x;
    case 'relu': return Number.isNaN(x) ? x : Math.max(0, x);
    case 'relu6': return Number.isNaN(x) ? x : Math.min(6, Math.max(0, x));
    case 'leaky_relu': return x >= 0 ? x : alpha * x;
    case 'elu': return x >= 0 ? x : alpha * (Math.exp(x) - 1);
    case 'selu': return x > 0 ? beta * x : beta * alpha * (Math.exp(x) - 1); // alpha, gamma in beta
    case 'sigmoid': return 1 / (1 + Math.exp(-x)); // fine in float64: exp(-x) = Infinity gives 0
    case 'hard_sigmoid': return Math.max(0, Math.min(1, alpha * x + beta));
    case 'tanh': return Math.tanh(x);
    case 'softplus': return x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    case 'softsign': return x / (1 + Math.abs(x));
    case 'gelu': return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh': return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'silu': return x / (1 + Math.exp(-x));
    case 'hard_swish': return (x * Math.min(6, Math.max(0, x + 3))) / 6;
    case 'mish': return x * Math.tanh(x > 30 ? x : Math.log1p(Math.exp(x)));
    default: throw new Error(`reference: unknown activation ${name}`);
  }
}

/** Applies one activation to a row of float64 values, returning a new array. */
export function referenceActivation(name: string, row: number[], alpha = 0, beta = 0): number[] {
  if (name === 'softmax' || name === 'log_softmax') {
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    return name === 'softmax' ? exps.map((e) => e / sum) : row.map((v) => v - max - Math.log(sum));
  }
  return row.map((v) => elementwise(name, v, alpha, beta));
}

/** Scores each row through every layer in float64. */
export function referenceForward(layers: ReferenceLayer[], rows: ArrayLike<number>[]): number[][] {
  return Array.from(rows, (input) => {
    let x = Array.from(input);
    for (const l of layers) {
      if (l.norm) {
        x = referenceActivation(l.activation, referenceLayerNorm(x, l.weights, l.bias, l.norm.eps), l.alpha, l.beta);
        continue;
      }
      const y = new Array<number>(l.units).fill(0);
      for (let j = 0; j < l.units; j++) {
        let s = 0;
        for (let k = 0; k < l.inputs; k++) s += x[k]! * l.weights[k * l.units + j]!;
        y[j] = s + l.bias[j]!;
      }
      x = referenceActivation(l.activation, y, l.alpha, l.beta);
    }
    return x;
  });
}
