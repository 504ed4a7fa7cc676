/** TensorFlow.js / Keras layers-model format (model.json + weight shards). Implementation in progress. */
import { Errors } from '../../errors.js';
import type { ModelSpec } from '../../types.js';

export async function parseTfjs(_bytes: Uint8Array, _dir: string | undefined): Promise<ModelSpec> {
  throw Errors.modelFormat('TF.js layers models are not readable yet');
}
