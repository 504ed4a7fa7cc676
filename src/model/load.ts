/** loadModel / saveModel: model files in, validated Models out; detection by content. */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { tempPathBeside } from '../io/temp-path.js';
import { Errors, ModelFormatError } from '../errors.js';
import type { ModelSpec } from '../types.js';
import { decodeNative, encodeNative, isNative } from './formats/native.js';
import { defineModel, isModel, type Model } from './model.js';
import type { AnyModel } from './onnx-graph.js';

export type ModelFormat = 'auto' | 'native' | 'onnx' | 'tfjs';
export interface LoadOptions { format?: ModelFormat }

const FORMATS = new Set(['auto', 'native', 'onnx', 'tfjs']);

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue; // space, BOM
    return b === 0x7b; // "{"
  }
  return false;
}

/** Which format the bytes are in, from their content. */
export function detectFormat(bytes: Uint8Array): Exclude<ModelFormat, 'auto'> {
  if (isNative(bytes)) return 'native';
  if (looksLikeJson(bytes)) return 'tfjs';
  return 'onnx';
}

/** What the importer folded or recognised in each model it loaded (ONNX), for `inspect`. */
const importNotes = new WeakMap<Model, readonly string[]>();

/** The import notes of a model that loadModel returned ("Sub+Div on the input folded into layer 0", …); empty otherwise. */
export function loadNotes(model: Model): readonly string[] {
  return importNotes.get(model) ?? [];
}

/**
 * An ONNX file the dense reader refused (`refusal`) loads as an ONNX graph model, run whole by
 * onnxruntime-node; if the graph cannot be scored row by row either, both reasons are given.
 */
async function onnxGraphOr(bytes: Uint8Array, refusal: ModelFormatError): Promise<AnyModel> {
  const [{ OnnxGraphModel }, { readOnnxGraph }] = await Promise.all([import('./onnx-graph.js'), import('./formats/onnx-graph-read.js')]);
  try {
    return new OnnxGraphModel(readOnnxGraph(bytes), bytes, refusal.message);
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    throw Errors.modelFormat(`${refusal.message}; nor can it run as an ONNX graph model (onnxruntime kernel): ${e.message}`, refusal);
  }
}

/**
 * Loads a model from a file path or from the bytes of a file. TF.js layers models need a path
 * (their weights live in shard files next to model.json). An ONNX file that is not a dense
 * network loads as an ONNX graph model (`kind: 'onnx-graph'`, onnxruntime kernel only). Bad
 * files reject with ModelFormatError.
 */
export async function loadModel(source: string | Uint8Array, options: LoadOptions = {}): Promise<AnyModel> {
  if (typeof options !== 'object' || options === null) throw Errors.type('options', 'an object', options);
  const format = options.format ?? 'auto';
  if (!FORMATS.has(format)) throw Errors.type('options.format', "'auto', 'native', 'onnx' or 'tfjs'", format);
  let bytes: Uint8Array;
  let name: string;
  if (typeof source === 'string') {
    name = basename(source);
    try {
      bytes = await readFile(source);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw Object.assign(new Error(`cannot read model file ${source}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { cause: e }), { code: err.code });
    }
  } else if (source instanceof Uint8Array) {
    name = 'model';
    bytes = source;
  } else {
    throw Errors.type('source', 'a file path or a Uint8Array', source);
  }
  const kind = format === 'auto' ? detectFormat(bytes) : format;
  let spec: ModelSpec;
  let notes: string[] = [];
  try {
    if (kind === 'native') spec = decodeNative(bytes);
    // The ONNX and TF.js readers (protobufjs: ~35 ms to load) are imported only when a file needs them.
    else if (kind === 'onnx') {
      const { parseOnnxWithNotes } = await import('./formats/onnx.js');
      try {
        const read = parseOnnxWithNotes(bytes);
        spec = read.spec;
        notes = read.notes;
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw e;
        return await onnxGraphOr(bytes, e);
      }
    }
    else {
      const dir = typeof source === 'string' ? dirname(source) : undefined;
      spec = await (await import('./formats/tfjs.js')).parseTfjs(bytes, dir);
    }
    const model = defineModel(spec);
    if (notes.length > 0) importNotes.set(model, Object.freeze(notes));
    return model;
  } catch (e) {
    if (e instanceof ModelFormatError) throw Errors.modelFormat(`${name}: ${e.message}`, e.cause);
    if (e instanceof TypeError || e instanceof RangeError) {
      // The file parsed but describes an invalid model (NaN weights, mismatched shapes, ...).
      throw Errors.modelFormat(`${name}: ${e.message}`, e);
    }
    throw e;
  }
}

/** Writes `model` in the native format. The file appears whole or not at all (temp file + rename). */
export async function saveModel(model: Model, path: string): Promise<void> {
  if (!isModel(model)) throw Errors.type('model', 'a Model', model);
  if (typeof path !== 'string' || path.length === 0) throw Errors.type('path', 'a file path', path);
  const tmp = tempPathBeside(path);
  try {
    await writeFile(tmp, encodeNative(model), { flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
