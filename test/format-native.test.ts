/** The native model format: lossless round trips, atomic saves, detection by content, damaged files. */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineModel, detectFormat, loadModel, ModelFormatError, saveModel, type DType } from '../src/index.js';
import { encodeNative } from '../src/model/formats/native.js';
import { titanicModel } from '../examples/models.js';
import { predictInline } from './helpers/predict.js';
import { randomModel, randomRows, rng } from './helpers/random.js';

const dir = await mkdtemp(join(tmpdir(), 'forwardpool-native-'));

describe('round trip', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`${dtype}: saveModel then loadModel predicts bitwise the same, with names, labels and parameters`, async () => {
      const r = rng(dtype === 'float32' ? 1 : 2);
      const { model: m0 } = randomModel(r, [9, 7, 5, 3], ['leaky_relu', 'selu', 'softmax'], dtype);
      // Rebuild with names, labels, a layer without bias and non-default parameters.
      const spec = {
        dtype, inputNames: Array.from({ length: 9 }, (_, i) => `f${i}`), labels: ['a', 'b', 'c'],
        layers: m0.layers.map((l, i) => {
          const { weights, bias } = m0.getWeights(i);
          return {
            weights, units: l.units, ...(i === 1 ? {} : { bias }),
            activation: i === 0 ? { name: 'leaky_relu' as const, alpha: 0.3 } : i === 1 ? { name: 'selu' as const, alpha: 2, gamma: 3 } : 'softmax' as const,
          };
        }),
      };
      const model = defineModel(spec);
      const path = join(dir, `rt-${dtype}.fpm`);
      await saveModel(model, path);
      const back = await loadModel(path);
      expect(String(back)).toBe(String(model));
      expect(back.inputNames).toEqual(model.inputNames);
      expect(back.labels).toEqual(model.labels);
      expect(back.layers).toEqual(model.layers);
      const x = randomRows(r, 50, 9);
      expect(predictInline(back, x, 50)).toEqual(predictInline(model, x, 50));
      for (let i = 0; i < 3; i++) expect(back.getWeights(i)).toEqual(model.getWeights(i));
    });
  }

  it('the tutorial network survives a round trip through bytes, detected by content', async () => {
    const bytes = encodeNative(titanicModel());
    expect(detectFormat(bytes)).toBe('native');
    const back = await loadModel(bytes);
    expect(Array.from(predictInline(back, [1, 2, 3, 1], 1))).toEqual([0.9995411814260615]);
    // A misleading extension does not matter: content decides.
    await writeFile(join(dir, 'really-native.onnx'), bytes);
    expect(String(await loadModel(join(dir, 'really-native.onnx')))).toBe(String(titanicModel()));
  });

  it('saveModel leaves no temporary file behind, and overwrites whole', async () => {
    const path = join(dir, 'atomic.fpm');
    await saveModel(titanicModel('float32'), path);
    await saveModel(titanicModel('float64'), path);
    expect((await loadModel(path)).dtype).toBe('float64');
    expect((await readdir(dir)).filter((f) => f.includes('atomic'))).toEqual(['atomic.fpm']);
  });
});

describe('damaged files', () => {
  it('EXPECTED FAILURE - truncation, a wrong version, a lying header, trailing bytes', async () => {
    const good = encodeNative(titanicModel());
    const fails = async (bytes: Uint8Array, re: RegExp) => {
      const err = await loadModel(bytes, { format: 'native' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(re);
    };
    await fails(good.slice(0, good.length - 3), /the file ends inside layers\[2\]\.weights/);
    await fails(Uint8Array.from([...good, 0]), /1 bytes after the last layer's data/);
    await fails(good.slice(0, 10), /the header claims|ends inside its header/);
    const header = JSON.parse(new TextDecoder().decode(good.subarray(12, 12 + new DataView(good.buffer).getUint32(8, true))));
    const withHeader = (h: unknown) => {
      const json = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(12 + json.length);
      out.set(good.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, json.length, true);
      out.set(json, 12);
      return out;
    };
    await fails(withHeader({ ...header, version: 3 }), /format version 3; this forwardpool reads versions 1 and 2/);
    await fails(withHeader({ ...header, dtype: 'int8' }), /dtype is "int8"/);
    await fails(withHeader({ ...header, layers: [{ inputs: 1e9, units: 1e9, bias: false, activation: { name: 'relu' } }] }), /layers\[0\] has an invalid shape/);
    await fails(withHeader({ ...header, layers: [{ inputs: 2, units: 2, bias: false, activation: { name: 'relu7' } }] }), /ends inside layers\[0\]\.weights/);
    const err = await loadModel(encodeNative(titanicModel()).map((b, i) => (i === 0 ? 0 : b)), { format: 'native' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/magic bytes/);
  });

  it('EXPECTED FAILURE - a header whose activation is unknown names it; __proto__ keys change nothing', async () => {
    const m = defineModel({ layers: [{ weights: [[1, 2]], activation: 'relu' }] });
    const good = encodeNative(m);
    const len = new DataView(good.buffer).getUint32(8, true);
    const text = new TextDecoder().decode(good.subarray(12, 12 + len));
    const swap = (t: string) => {
      const json = new TextEncoder().encode(t);
      const dataStart = (12 + len + 7) & ~7;
      const newStart = (12 + json.length + 7) & ~7;
      const out = new Uint8Array(newStart + good.length - dataStart);
      out.set(good.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, json.length, true);
      out.set(json, 12);
      out.set(good.subarray(dataStart), newStart);
      return out;
    };
    const err = await loadModel(swap(text.replace('"relu"', '"relu7"'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/layers\[0\]\.activation\.name must be one of/);
    const polluted = await loadModel(swap(text.replace('{"format"', '{"__proto__":{"polluted":1},"format"')));
    expect(String(polluted)).toBe(String(m));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('fuzz: 3 000 truncated, bit-flipped and random files end in a Model or a ModelFormatError', async () => {
    const valid = encodeNative(randomModel(rng(5), [6, 5, 2], ['gelu', 'softmax'], 'float32').model);
    const f = rng(6);
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (i % 3 === 0) bytes = valid.slice(0, Math.floor(f() * valid.length));
      else if (i % 3 === 1) {
        bytes = valid.slice();
        for (let k = 0; k < 1 + Math.floor(f() * 3); k++) bytes[Math.floor(f() * bytes.length)]! ^= 1 << Math.floor(f() * 8);
      } else {
        bytes = Uint8Array.from({ length: 8 + Math.floor(f() * 400) }, () => Math.floor(f() * 256));
        if (f() < 0.5) bytes.set(valid.subarray(0, 8)); // past the magic, into the header
      }
      try {
        await loadModel(bytes, { format: 'native' });
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw new Error(`variant ${i} threw ${String(e)}`);
      }
    }
  });
});

describe('loadModel arguments', () => {
  it('BAD CALL - a bad format option, a bad source, a missing file', async () => {
    // @ts-expect-error not a format
    await expect(loadModel(new Uint8Array(4), { format: 'pt' })).rejects.toThrow(/options.format must be 'auto', 'native', 'onnx' or 'tfjs', got: "pt"/);
    // @ts-expect-error not a source
    await expect(loadModel(42)).rejects.toThrow(TypeError);
    await expect(loadModel(join(dir, 'nope.onnx'))).rejects.toThrow(/cannot read model file .*nope\.onnx: no such file/);
    const raw = await readFile(join(dir, 'atomic.fpm')).catch(() => undefined);
    expect(raw === undefined || raw.length > 0).toBe(true);
  });
});
