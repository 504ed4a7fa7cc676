/** Largest tensor a model file may declare (elements); beyond it the file is refused before allocating. */
export const MAX_TENSOR_ELEMENTS = 1 << 28;
