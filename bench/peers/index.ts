/** Starts a peer runner in its own worker thread and talks to it through comlink. */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Model } from '../../src/index.js';
import { toOnnx } from '../onnx-export.js';
import type { PeerKind, PeerModel, PeerRunner } from './types.js';

export type { PeerKind } from './types.js';

export function peerModel(model: Model): PeerModel {
  return {
    onnx: toOnnx(model),
    inputs: model.inputs,
    layers: model.layers.map((l, i) => {
      const { weights, bias } = model.getWeights(i);
      return { weights: Float32Array.from(weights), bias: Float32Array.from(bias), units: l.units, activation: l.activation.name === 'identity' ? 'linear' : l.activation.name };
    }),
  };
}

export interface Peer {
  name: string;
  runner: Comlink.Remote<PeerRunner>;
  close(): Promise<void>;
}

export async function startPeer(kind: PeerKind, model: PeerModel, threads: number): Promise<Peer> {
  const worker = new Worker(new URL('./runner.js', import.meta.url));
  const runner = Comlink.wrap<PeerRunner>(nodeEndpoint(worker));
  const name = await runner.load(kind, model, threads);
  return {
    name,
    runner,
    async close() {
      await runner.dispose().catch(() => {});
      runner[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}
