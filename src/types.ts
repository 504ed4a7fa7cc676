/** Element type of a model's weights, activations and outputs. */
export type DType = 'float32' | 'float64';

export type FloatArray = Float32Array | Float64Array;

export type ActivationName =
  | 'identity' | 'linear' | 'relu' | 'relu6' | 'leaky_relu' | 'elu' | 'selu'
  | 'sigmoid' | 'hard_sigmoid' | 'tanh' | 'softplus' | 'softsign'
  | 'gelu' | 'gelu_tanh' | 'silu' | 'swish' | 'softmax' | 'log_softmax';

export interface ActivationSpec {
  name: ActivationName;
  alpha?: number;
  beta?: number;
  /** selu only: the scale (ONNX's `gamma`); selu's alpha and gamma default to the standard constants. */
  gamma?: number;
}

export interface LayerSpec {
  /** `[inputs][units]`, as in `inputs @ W`; or flat row-major `inputs x units` with `units` set. */
  weights: number[][] | Float32Array | Float64Array;
  units?: number;
  bias?: number[] | Float32Array | Float64Array;
  activation?: ActivationName | ActivationSpec;
}

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
