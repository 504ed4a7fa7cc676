/** Seeded mutations of model.json text and weight shards for the TF.js loader's fuzz test. */
import { randInt } from './random.js';

type R = () => number;

/** The first `n` bytes, n in [0, length). */
export function truncate(r: R, bytes: Uint8Array): Uint8Array {
  return bytes.slice(0, randInt(r, 0, bytes.length - 1));
}

/** 1 to `max` random bit flips. */
export function flipBits(r: R, bytes: Uint8Array, max = 4): Uint8Array {
  const out = bytes.slice();
  for (let k = randInt(r, 1, max); k > 0; k--) out[randInt(r, 0, out.length - 1)]! ^= 1 << randInt(r, 0, 7);
  return out;
}

/** 1 to 4 bytes replaced with characters that matter to JSON (so the text often stays JSON-like). */
export function jsonNoise(r: R, bytes: Uint8Array): Uint8Array {
  const chars = '{}[]",:-.0123456789enulltrue ';
  const out = bytes.slice();
  for (let k = randInt(r, 1, 4); k > 0; k--) out[randInt(r, 0, out.length - 1)] = chars.charCodeAt(randInt(r, 0, chars.length - 1));
  return out;
}

/** `n` random bytes, sometimes starting with "{" so that they are taken for JSON. */
export function randomBytes(r: R, n: number): Uint8Array {
  const out = new Uint8Array(n).map(() => randInt(r, 0, 255));
  if (n > 0 && r() < 0.5) out[0] = 0x7b;
  return out;
}

/** Values of the wrong kind, size or meaning, to plant anywhere in a parsed model.json. */
const WEIRD: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 6, '', 'relu', 'mish', '__proto__', 'constructor', '../x.bin',
  'float16', 'uint8', 'Dense', 'InputLayer', [], {}, [null], [null, 4], [null, 4, 3], [100000, 100000], [1e9], [-1, 5], [[]],
  { __proto__: null, polluted: 1 }, { class_name: 'Dense', config: {} }, [['x', 0, 0]], { dtype: 'uint8' },
];

/** Every (parent, key) pair of a JSON value, depth first. */
function slots(value: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []) {
  if (Array.isArray(value)) value.forEach((v, i) => { out.push([value, i]); slots(v, out); });
  else if (typeof value === 'object' && value !== null) {
    for (const k of Object.keys(value)) { out.push([value as Record<string, unknown>, k]); slots((value as Record<string, unknown>)[k], out); }
  }
  return out;
}

/**
 * One structural edit of the parsed JSON `text`: a value replaced by a weird one, a key deleted, an
 * array element duplicated or dropped, or a "__proto__" key added. Returns the new text.
 */
export function mutateJson(r: R, text: string): string {
  const root = JSON.parse(text) as unknown;
  const all = slots(root);
  const [parent, key] = all[randInt(r, 0, all.length - 1)]!;
  const p = parent as Record<string | number, unknown>;
  const op = randInt(r, 0, 9);
  if (op <= 5) p[key] = structuredClone(WEIRD[randInt(r, 0, WEIRD.length - 1)]);
  else if (op === 6 && !Array.isArray(parent)) delete p[key];
  else if (op === 7 && Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
  else if (op === 8 && Array.isArray(parent)) parent.splice(key as number, 1);
  else if (typeof p[key] === 'object' && p[key] !== null && !Array.isArray(p[key])) {
    Object.defineProperty(p[key], '__proto__', { value: { polluted: 1, class_name: 'Dense' }, enumerable: true, configurable: true, writable: true });
  } else p[key] = structuredClone(WEIRD[randInt(r, 0, WEIRD.length - 1)]);
  return JSON.stringify(root);
}
