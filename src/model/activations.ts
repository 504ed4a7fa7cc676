/** The activation registry: public names, aliases, parameters and their defaults. */
import { Errors, describe } from '../errors.js';
import { Act, SELU_ALPHA, SELU_SCALE } from '../kernels/activations.js';
import type { ActivationName, ActivationSpec } from '../types.js';

interface Entry {
  id: number;
  canonical: string;
  params: { alpha?: number; beta?: number; gamma?: number };
  /** True when the activation maps each row to a probability distribution (for labels). */
  probabilities: boolean;
}

const entry = (id: number, canonical: string, params: Entry['params'] = {}, probabilities = false): Entry =>
  ({ id, canonical, params, probabilities });

const REGISTRY: Readonly<Record<ActivationName, Entry>> = Object.freeze({
  identity: entry(Act.identity, 'identity'),
  linear: entry(Act.identity, 'identity'),
  relu: entry(Act.relu, 'relu'),
  relu6: entry(Act.relu6, 'relu6'),
  leaky_relu: entry(Act.leaky_relu, 'leaky_relu', { alpha: 0.01 }),
  elu: entry(Act.elu, 'elu', { alpha: 1 }),
  selu: entry(Act.selu, 'selu', { alpha: SELU_ALPHA, gamma: SELU_SCALE }),
  sigmoid: entry(Act.sigmoid, 'sigmoid', {}, true),
  hard_sigmoid: entry(Act.hard_sigmoid, 'hard_sigmoid', { alpha: 0.2, beta: 0.5 }, true),
  tanh: entry(Act.tanh, 'tanh'),
  softplus: entry(Act.softplus, 'softplus'),
  softsign: entry(Act.softsign, 'softsign'),
  gelu: entry(Act.gelu, 'gelu'),
  gelu_tanh: entry(Act.gelu_tanh, 'gelu_tanh'),
  silu: entry(Act.silu, 'silu'),
  swish: entry(Act.silu, 'silu'),
  hard_swish: entry(Act.hard_swish, 'hard_swish'),
  mish: entry(Act.mish, 'mish'),
  softmax: entry(Act.softmax, 'softmax', {}, true),
  log_softmax: entry(Act.log_softmax, 'log_softmax'),
});

export const ACTIVATION_NAMES = Object.freeze(Object.keys(REGISTRY) as ActivationName[]);

/** A validated activation with every parameter filled in. */
export interface ResolvedActivation {
  readonly name: string; // canonical name (linear -> identity, swish -> silu)
  readonly id: number;
  /** The two numbers the kernel takes (for selu: alpha and gamma). */
  readonly alpha: number;
  readonly beta: number;
  /** Parameters that apply to this activation, for summaries and saving. */
  readonly params: Readonly<{ alpha?: number; beta?: number; gamma?: number }>;
  readonly probabilities: boolean;
}

function lookup(name: unknown, arg: string): Entry {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(REGISTRY, name)) {
    throw Errors.type(arg, `one of ${ACTIVATION_NAMES.join(', ')}`, name);
  }
  return REGISTRY[name as ActivationName];
}

/** Validates an activation given as a name or `{ name, alpha?, beta? }`; `undefined` means identity. */
export function resolveActivation(spec: unknown, arg: string): ResolvedActivation {
  if (spec === undefined || spec === null) spec = 'identity';
  let e: Entry;
  let given: { alpha?: unknown; beta?: unknown; gamma?: unknown } = {};
  if (typeof spec === 'string') {
    e = lookup(spec, arg);
  } else if (typeof spec === 'object' && !Array.isArray(spec)) {
    const s = spec as Record<string, unknown>;
    e = lookup(s.name, `${arg}.name`);
    for (const key of Object.keys(s)) {
      if (key === 'name') continue;
      if (key !== 'alpha' && key !== 'beta' && key !== 'gamma') {
        throw Errors.unknownKey(arg, key, ['name', 'alpha', 'beta', 'gamma']);
      }
      if (s[key] === undefined) continue;
      if (!(key in e.params)) {
        throw new TypeError(`${arg}.${key} does not apply: ${e.canonical} takes ${Object.keys(e.params).join(' and ') || 'no parameters'}, got: ${describe(s[key])}`);
      }
      if (typeof s[key] !== 'number') throw Errors.type(`${arg}.${key}`, 'a finite number', s[key]);
      if (!Number.isFinite(s[key])) throw Errors.range(`${arg}.${key}`, 'a finite number', s[key]);
    }
    given = { alpha: s.alpha, beta: s.beta, gamma: s.gamma };
  } else {
    throw Errors.type(arg, 'an activation name or { name, alpha?, beta?, gamma? }', spec);
  }
  const params: { alpha?: number; beta?: number; gamma?: number } = {};
  if (e.params.alpha !== undefined) params.alpha = (given.alpha as number | undefined) ?? e.params.alpha;
  if (e.params.beta !== undefined) params.beta = (given.beta as number | undefined) ?? e.params.beta;
  if (e.params.gamma !== undefined) params.gamma = (given.gamma as number | undefined) ?? e.params.gamma;
  return Object.freeze({
    name: e.canonical,
    id: e.id,
    alpha: params.alpha ?? 0,
    beta: params.beta ?? params.gamma ?? 0,
    params: Object.freeze(params),
    probabilities: e.probabilities,
  });
}

/** "relu", "leaky_relu(alpha=0.2)" — default parameters are left out. */
export function activationLabel(a: ResolvedActivation): string {
  const e = REGISTRY[a.name as ActivationName];
  const parts: string[] = [];
  for (const k of ['alpha', 'beta', 'gamma'] as const) {
    const v = a.params[k];
    if (v !== undefined && v !== e.params[k]) parts.push(`${k}=${v}`);
  }
  return parts.length ? `${a.name}(${parts.join(', ')})` : a.name;
}

export type { ActivationSpec };
