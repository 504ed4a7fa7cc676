/** Bundled example models: the tutorial's Titanic network (SEED.md), exactly as the tutorial sets it up. */
import { defineModel, type DType, type Model } from '../src/index.js';

/** numpy: np.random.seed(22); np.random.uniform(0, 1, (4, 5)) — and the same seed again for each layer. */
export const TITANIC_W1 = [
  [0.20846053735884262, 0.4816810617633659, 0.4205380353143747, 0.8591819985213441, 0.1711615536116733],
  [0.3388639606037004, 0.2705328332978312, 0.6910413504495961, 0.22040451663772564, 0.8119509205386867],
  [0.010526874316108437, 0.5612036966629997, 0.8137261874151964, 0.7451002960588357, 0.189111355260562],
  [0.006140866346098228, 0.7720438714445362, 0.9578321680932752, 0.7019378840943111, 0.2975782668650505],
];
export const TITANIC_W2 = [
  [0.20846053735884262, 0.4816810617633659, 0.4205380353143747],
  [0.8591819985213441, 0.1711615536116733, 0.3388639606037004],
  [0.2705328332978312, 0.6910413504495961, 0.22040451663772564],
  [0.8119509205386867, 0.010526874316108437, 0.5612036966629997],
  [0.8137261874151964, 0.7451002960588357, 0.189111355260562],
];
export const TITANIC_W3 = [[0.20846053735884262], [0.4816810617633659], [0.4205380353143747]];

/**
 * Inputs: ticket class, sex, port of embarkation, and a constant 1 that stands in for the bias
 * (the tutorial folds the bias into the inputs; the layers themselves have none).
 * Output: one sigmoid unit, the probability of survival.
 */
export function titanicModel(dtype: DType = 'float64'): Model {
  return defineModel({
    dtype,
    inputNames: ['pclass', 'sex', 'embarked', 'one'],
    labels: ['survived'],
    layers: [
      { weights: TITANIC_W1, activation: 'relu' },
      { weights: TITANIC_W2, activation: 'relu' },
      { weights: TITANIC_W3, activation: 'sigmoid' },
    ],
  });
}
