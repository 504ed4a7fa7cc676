/**
 * Which kernel an engine or a score run gets once onnxruntime-node is in the picture: an ONNX
 * graph model runs only on 'onnxruntime'; for a dense model 'auto' takes 'onnxruntime' only
 * where it is installed and the model is past the measured crossover, else what resolveKernel
 * picks. An explicit choice is kept as it is.
 */
import { Errors, ModelFormatError } from '../../errors.js';
import type { AnyModel } from '../../model/onnx-graph.js';
import type { KernelChoice } from '../select.js';
import { ortAvailable } from './load.js';

/**
 * Multiply-adds per row from which onnxruntime (one intra-op thread per worker) beats the
 * WebAssembly kernel with FMA, one thread each, measured with bench/ort-suite.ts on the
 * reference machine (2 cores): onnxruntime 1.29× at 1,199 (32→32→1), 0.55× at 351 (16→16→1).
 */
export const ORT_AUTO_MIN_COST = 1_000;

/** Whether forwardpool's ONNX writer can express the model (float64 gelu cannot; see onnx-write.ts). */
async function writable(model: AnyModel): Promise<boolean> {
  try {
    (await import('./spec.js')).ortSpecOf(model);
    return true;
  } catch (e) {
    if (e instanceof ModelFormatError) return false;
    throw e;
  }
}

/**
 * `autoOrt: false` keeps 'auto' off onnxruntime for dense models (score does: it is parse-bound,
 * and starting a session per worker cost more than the faster forward pass saved; see the README;
 * and so does an engine asked for `splitRows: true`, which needs a WebAssembly kernel).
 */
export async function chooseKernel(choice: KernelChoice | undefined, model: AnyModel, arg = 'options.kernel', autoOrt = true): Promise<KernelChoice | undefined> {
  if (model.kind === 'onnx-graph') {
    if (choice !== undefined && choice !== 'auto' && choice !== 'onnxruntime') {
      throw Errors.range(arg, "'onnxruntime' or 'auto' for an ONNX graph model (it runs only on onnxruntime-node)", choice);
    }
    return 'onnxruntime';
  }
  if (autoOrt && (choice === undefined || choice === 'auto') && model.costPerRow >= ORT_AUTO_MIN_COST && (await ortAvailable()) && (await writable(model))) return 'onnxruntime';
  return choice;
}
