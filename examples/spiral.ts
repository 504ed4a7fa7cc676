/**
 * The demo's data: points on three interleaved spiral arms (class k = arm k), the same generator
 * as tools/train-spiral-classifier.py, with a seeded random source so runs are repeatable.
 */
import { readFile } from 'node:fs/promises';
import { defineModel, Matrix, type Model, type ModelSpec } from '../src/index.js';

/** mulberry32: a small, fast, seeded 32-bit generator; numbers in [0, 1). Shared by the demo, tests and benchmarks. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` points as a float32 Matrix (columns x, y) and their true arm. */
export function spiralPoints(rows: number, seed: number): { x: Matrix; arm: Uint8Array } {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = Matrix.alloc(rows, 2, 'float32');
  const arm = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = Math.floor(rand() * 3);
    const t = rand();
    const angle = t * 4 + (k * 2 * Math.PI) / 3;
    x.data[2 * i] = t * Math.cos(angle) + 0.04 * normal();
    x.data[2 * i + 1] = t * Math.sin(angle) + 0.04 * normal();
    arm[i] = k;
  }
  return { x, arm };
}

/** The bundled classifier (examples/spiral-classifier.json), trained by tools/train-spiral-classifier.py. */
export async function spiralClassifier(): Promise<Model> {
  // From dist/examples/*.js or from examples/*.ts, the JSON sits in <package>/examples/.
  const root = import.meta.url.includes('/dist/') ? '../../' : '../';
  const text = await readFile(new URL(`${root}examples/spiral-classifier.json`, import.meta.url), 'utf8');
  const { format: _format, about: _about, ...spec } = JSON.parse(text) as ModelSpec & { format: string; about: string };
  return defineModel(spec);
}
