/**
 * Constructor arguments of a layer, checked the way PyTorch's constructors would take them: each layer
 * kind declares its arguments (PyTorch's names, types, defaults, ranges) in a small table, and this module
 * turns a plain JSON object into a typed, defaulted spec or a ConfigError that names the layer, the
 * argument and what was expected (with the nearest name for a misspelt one).
 */
import { ConfigError } from '../../errors';
import { initNames, resolveInit } from '../init';
import { nearest } from '../../util/nearest';

export type ArgRule =
  | { kind: 'int'; min?: number; default?: number }
  | { kind: 'number'; min?: number; max?: number; below?: number; default?: number }
  | { kind: 'bool'; default?: boolean }
  /** An int or a pair of ints [h, w] (kernel_size, stride, padding), each ≥ min; strings from `words` too. */
  | { kind: 'pair'; min: number; default?: number | [number, number] | null; words?: readonly string[] }
  | { kind: 'ints'; min: number }
  | { kind: 'init' }
  | { kind: 'choice'; choices: readonly (string | number | boolean | null)[]; default: string | number | boolean | null; why: string }
  | { kind: 'layers' };

export type ArgTable = Record<string, ArgRule & { required?: boolean }>;

/** Where a layer sits in the model, for messages: "layer 4.body.0 (Conv2d)". */
export const layerLabel = (path: string, type: string) => `layer ${path} (${type})`;

function fail(where: string, message: string): never {
  throw new ConfigError(`${where}: ${message}`);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function checkOne(where: string, name: string, rule: ArgRule, value: unknown): unknown {
  const show = JSON.stringify(value);
  switch (rule.kind) {
    case 'int':
      if (!isInt(value) || value < (rule.min ?? -Infinity)) fail(where, `${name} must be an integer${rule.min !== undefined ? ` ≥ ${rule.min}` : ''}; got ${show}.`);
      return value;
    case 'number': {
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        value >= (rule.min ?? -Infinity) &&
        value <= (rule.max ?? Infinity) &&
        (rule.below === undefined || value < rule.below);
      if (!ok) {
        const range = [rule.min !== undefined && `≥ ${rule.min}`, rule.max !== undefined && `≤ ${rule.max}`, rule.below !== undefined && `< ${rule.below}`].filter(Boolean).join(' and ');
        fail(where, `${name} must be a finite number${range ? ` ${range}` : ''}; got ${show}.`);
      }
      return value;
    }
    case 'bool':
      if (typeof value !== 'boolean') fail(where, `${name} must be true or false; got ${show}.`);
      return value;
    case 'pair': {
      if (typeof value === 'string' && rule.words?.includes(value)) return value;
      const pair = isInt(value) ? [value, value] : Array.isArray(value) && value.length === 2 && value.every(isInt) ? value : undefined;
      if (!pair || pair.some((v) => v < rule.min)) {
        const words = rule.words?.length ? `, or one of ${rule.words.map((w) => `'${w}'`).join(', ')}` : '';
        fail(where, `${name} must be an integer ≥ ${rule.min} or a pair [h, w] of them${words}; got ${show}.`);
      }
      return pair;
    }
    case 'ints': {
      const list = isInt(value) ? [value] : value;
      if (!Array.isArray(list) || list.length === 0 || !list.every((v) => isInt(v) && v >= rule.min)) fail(where, `${name} must be an integer ≥ ${rule.min} or a list of them; got ${show}.`);
      return list;
    }
    case 'init':
      if (typeof value !== 'string') fail(where, `init must be the name of an initialiser (${initNames.join(', ')}); got ${show}.`);
      try {
        return resolveInit(value);
      } catch (error) {
        return fail(where, (error as Error).message);
      }
    case 'choice':
      if (!rule.choices.includes(value as string)) fail(where, `${name}=${show} is not supported: ${rule.why}`);
      return value;
    case 'layers':
      if (!Array.isArray(value)) fail(where, `${name} must be a list of layers; got ${show}.`);
      return value;
  }
}

/**
 * Checks `spec` (a JSON object with `type`) against `table` and returns it with every default filled in.
 * `pair` arguments come back as [h, w].
 */
export function checkArgs(path: string, spec: Record<string, unknown>, table: ArgTable): Record<string, unknown> {
  const where = layerLabel(path, String(spec.type));
  const out: Record<string, unknown> = { type: spec.type };
  for (const key of Object.keys(spec)) {
    if (key === 'type') continue;
    if (!Object.hasOwn(table, key)) {
      const known = Object.keys(table);
      const guess = nearest(key, known);
      fail(where, `unknown argument '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}. ${String(spec.type)} takes: ${known.join(', ') || 'no arguments'}.`);
    }
  }
  for (const [name, rule] of Object.entries(table)) {
    const value = spec[name];
    if (value === undefined) {
      if (rule.required) fail(where, `the argument '${name}' is required.`);
      const fallback = 'default' in rule ? rule.default : undefined;
      out[name] = rule.kind === 'pair' && isInt(fallback) ? [fallback, fallback] : fallback;
      continue;
    }
    out[name] = checkOne(where, name, rule, value);
  }
  return out;
}
