/** Element type of a model's weights, activations and outputs. */
export type DType = 'float32' | 'float64';

export type FloatArray = Float32Array | Float64Array;

export type ActivationName =
  | 'identity' | 'linear' | 'relu' | 'relu6' | 'leaky_relu' | 'elu' | 'selu'
  | 'sigmoid' | 'hard_sigmoid' | 'tanh' | 'softplus' | 'softsign'
  | 'gelu' | 'gelu_tanh' | 'silu' | 'swish' | 'hard_swish' | 'mish' | 'softmax' | 'log_softmax';

export interface ActivationSpec {
  name: ActivationName;
  alpha?: number;
  beta?: number;
  /** selu only: the scale (ONNX's `gamma`); selu's alpha and gamma default to the standard constants. */
  gamma?: number;
}

/** A dense layer: `act(inputs @ W + bias)`. */
export interface DenseLayerSpec {
  /** Optional tag; a layer without `type` is dense. */
  type?: 'dense';
  /** `[inputs][units]`, as in `inputs @ W`; or flat row-major `inputs x units` with `units` set. */
  weights: number[][] | Float32Array | Float64Array;
  units?: number;
  bias?: number[] | Float32Array | Float64Array;
  activation?: ActivationName | ActivationSpec;
}

/**
 * Layer normalisation over each row: `act((x - mean(x)) / sqrt(var(x) + epsilon) * scale + bias)`,
 * mean and (biased) variance over the row's values. Its width is the previous layer's units (or,
 * as the first layer, `units` or the length of `scale`/`bias`).
 */
export interface LayerNormSpec {
  type: 'layer_norm';
  /** A layer norm has no weight matrix (here so that a misplaced one is a type error). */
  weights?: never;
  units?: number;
  /** Per-unit gain (gamma); omitted = ones. */
  scale?: number[] | Float32Array | Float64Array;
  /** Per-unit shift (beta); omitted = zeros. */
  bias?: number[] | Float32Array | Float64Array;
  /** Added to the variance; default 1e-5 (PyTorch's and ONNX's default). */
  epsilon?: number;
  activation?: ActivationName | ActivationSpec;
}

export type LayerSpec = DenseLayerSpec | LayerNormSpec;

export interface ModelSpec {
  dtype?: DType;
  inputNames?: string[];
  labels?: string[];
  layers: LayerSpec[];
}

export function bytesOf(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

/** Float32Array or Float64Array, seen as one constructor that accepts shared buffers too. */
export interface FloatArrayConstructor {
  new (length: number): FloatArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): FloatArray;
  readonly BYTES_PER_ELEMENT: number;
}

export function arrayOf(dtype: DType): FloatArrayConstructor {
  return (dtype === 'float64' ? Float64Array : Float32Array) as unknown as FloatArrayConstructor;
}
