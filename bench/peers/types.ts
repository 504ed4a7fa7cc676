/** The peer engines the benchmark runs beside forwardpool, each in its own worker thread. */
export type PeerKind = 'onnxruntime-node' | 'onnxruntime-web' | 'tfjs-wasm' | 'tfjs-cpu';

export interface PeerModel {
  onnx: Uint8Array;
  inputs: number;
  layers: Array<{ weights: Float32Array; bias: Float32Array; units: number; activation: string }>;
}

/** What a runner worker exposes over comlink. */
export interface PeerRunner {
  /** Loads the model; returns the peer's name and version as it reports them. */
  load(kind: PeerKind, model: PeerModel, threads: number): Promise<string>;
  /** Hands over the input for the runs that follow (copied once, outside any timing). */
  setInput(buffer: SharedArrayBuffer, rows: number, cols: number): Promise<void>;
  /** Runs the whole input through the model `times` times; returns milliseconds per run and a checksum of the last output. */
  run(times: number): Promise<{ ms: number[]; checksum: number }>;
  dispose(): Promise<void>;
}
