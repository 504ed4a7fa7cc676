/**
 * forwardpool beside the engines users would pick instead, on the same models and data in the
 * same run: onnxruntime-node (native), onnxruntime-web (WebAssembly SIMD), tfjs (wasm and cpu).
 * Every engine runs the whole batch; the table gives median rows/s and forwardpool's ratio.
 */
import { availableParallelism } from 'node:os';
import { createEngine, type Model } from '../src/index.js';
import { titanicModel } from '../examples/models.js';
import { peerModel, startPeer, type PeerKind } from './peers/index.js';
import { measure, mlp, randomMatrix } from './util.js';

export interface PeerRow { model: string; rows: number; engine: string; rowsPerSec: number; gflops: number; ratio: number }

const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

export async function peersSuite(say: (s?: string) => void, quick: boolean): Promise<{ rows: PeerRow[]; latency: unknown }> {
  const threads = availableParallelism();
  const cases: Array<{ name: string; model: Model; rows: number; runs: number; peers: Array<[PeerKind, number]> }> = [
    { name: '784→512→256→10 softmax', model: mlp([784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32'), rows: quick ? 4096 : 65_536, runs: quick ? 2 : 3,
      peers: [['onnxruntime-node', 1], ['onnxruntime-web', 1], ['tfjs-wasm', 1], ['tfjs-cpu', 1 / 16]] },
    { name: '32→64→64→1 sigmoid', model: mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32'), rows: 1_000_000, runs: quick ? 2 : 5,
      peers: [['onnxruntime-node', 1], ['onnxruntime-web', 1], ['tfjs-wasm', 1], ['tfjs-cpu', 1 / 10]] },
    { name: '4→5→3→1 tutorial (Titanic)', model: titanicModel('float32'), rows: 1_000_000, runs: quick ? 2 : 5,
      peers: [['onnxruntime-node', 1], ['onnxruntime-web', 1], ['tfjs-wasm', 1]] },
  ];
  say(`## forwardpool and its peers (float32, ${threads} threads where the engine can use them)`);
  say('');
  say('Same weights, same input, same run. onnxruntime-node and -web get `intraOpNumThreads` / `numThreads`');
  say("= threads; tfjs's wasm backend runs single-threaded in Node; tfjs-cpu scores a smaller slice of the");
  say('rows (marked) because it is two orders of magnitude slower. "vs" is forwardpool rows/s ÷ that engine\'s.');
  say('');
  say('| model | rows | engine | rows/s | GFLOP/s | forwardpool vs it |');
  say('|---|---:|---|---:|---:|---:|');
  const out: PeerRow[] = [];
  for (const c of cases) {
    const x = randomMatrix(c.rows, c.model.inputs, 'float32');
    const engine = await createEngine(c.model, { threads });
    await engine.predict(x);
    // Where the default kernel fuses multiply-adds (relaxed SIMD), the plain SIMD kernel too: it
    // is what runs without relaxed SIMD (Node 20 without the flag).
    const plain = engine.stats().kernel === 'wasm-fma' ? await createEngine(c.model, { threads, kernel: 'wasm' }) : undefined;
    if (plain) await plain.predict(x);
    const ours: number[] = [], oursPlain: number[] = [];
    const timeOurs = async (n: number) => {
      for (let i = 0; i < n; i++) {
        ours.push((await measure('fp', () => engine.predict(x), { async: true, iterations: 1, time: 0, warmupIterations: 0 })).meanMs);
        if (plain) oursPlain.push((await measure('fp plain', () => plain.predict(x), { async: true, iterations: 1, time: 0, warmupIterations: 0 })).meanMs);
      }
    };
    await timeOurs(c.runs);
    const peerRows: Array<{ name: string; rows: number; ms: number }> = [];
    const pm = peerModel(c.model);
    for (const [kind, share] of c.peers) {
      const rows = Math.max(1, Math.round(c.rows * share));
      const peer = await startPeer(kind, pm, threads);
      try {
        await peer.runner.setInput(x.data.buffer as SharedArrayBuffer, rows, c.model.inputs);
        await peer.runner.run(1); // warm-up
        const { ms } = await peer.runner.run(c.runs);
        peerRows.push({ name: `${peer.name}${share < 1 ? ` (${rows.toLocaleString('en-US')} rows)` : ''}`, rows, ms: median(ms) });
      } finally {
        await peer.close();
      }
    }
    await timeOurs(c.runs); // before and after the peers, so a drift in the host's speed shows in both halves
    await engine.close();
    await plain?.close();
    const fpRowsPerSec = c.rows / (median(ours) / 1000);
    const line = (engineName: string, rows: number, rowsPerSec: number) => {
      const gflops = (rowsPerSec * c.model.flopsPerRow) / 1e9;
      const ratio = fpRowsPerSec / rowsPerSec;
      say(`| ${c.name} | ${rows.toLocaleString('en-US')} | ${engineName} | ${Math.round(rowsPerSec).toLocaleString('en-US')} | ${gflops.toFixed(2)} | ${ratio.toFixed(2)}× |`);
      out.push({ model: c.name, rows, engine: engineName, rowsPerSec, gflops, ratio });
    };
    line(`**forwardpool** (${engine.stats().kernel} kernel)`, c.rows, fpRowsPerSec);
    if (plain) line('forwardpool (wasm kernel: no relaxed SIMD)', c.rows, c.rows / (median(oursPlain) / 1000));
    for (const p of peerRows) line(p.name, p.rows, p.rows / (p.ms / 1000));
  }
  say('');

  // 1-row latency: our predict() against onnxruntime-node's session.run, same model.
  const model = mlp([784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32');
  const one = randomMatrix(1, 784, 'float32');
  const engine = await createEngine(model, { threads });
  const split = engine.stats().splitRows;
  const fp = await measure('fp 1 row', () => engine.predict(one), { async: true, time: quick ? 300 : 1500, iterations: 50 });
  await engine.close();
  // The same without the split (what one thread does alone).
  const alone = await createEngine(model, { threads, splitRows: false });
  const fpAlone = await measure('fp 1 row unsplit', () => alone.predict(one), { async: true, time: quick ? 300 : 1500, iterations: 50 });
  await alone.close();
  // onnxruntime-node with all threads (as in the table above) and with one: it splits even one
  // row's matrix-vector products across its (spinning) intra-op threads.
  const ortP50 = async (t: number) => {
    const peer = await startPeer('onnxruntime-node', peerModel(model), t);
    try {
      await peer.runner.setInput(one.data.buffer as SharedArrayBuffer, 1, 784);
      await peer.runner.run(20);
      const { ms } = await peer.runner.run(quick ? 100 : 500);
      return [...ms].sort((a, b) => a - b)[ms.length >> 1]!;
    } finally {
      await peer.close();
    }
  };
  const ortAll = await ortP50(threads);
  const ortOne = await ortP50(1);
  say(`1-row latency on 784→512→256→10: forwardpool predict() p50 ${fp.p50Ms.toFixed(3)} ms (p99 ${fp.p99Ms.toFixed(3)}; ${split ? 'the row split between the calling thread and a helper thread' : 'one row runs inline on the calling thread'}), ${fpAlone.p50Ms.toFixed(3)} ms with \`splitRows: false\` (the calling thread alone); onnxruntime-node session.run p50 ${ortAll.toFixed(3)} ms with intraOpNumThreads ${threads}, ${ortOne.toFixed(3)} ms with 1 (timed inside its worker, so without the comlink hop).`);
  say('');
  return { rows: out, latency: { forwardpoolP50Ms: fp.p50Ms, forwardpoolP99Ms: fp.p99Ms, forwardpoolSplit: split, forwardpoolUnsplitP50Ms: fpAlone.p50Ms, ortNodeP50Ms: ortAll, ortNodeOneThreadP50Ms: ortOne } };
}
