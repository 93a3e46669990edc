/**
 * A seeded fuzz harness for readers of outside bytes or text. Each case is parsed, or refused with a
 * WebgradError subclass; the harness fails a case that throws anything else (a TypeError, a RangeError, a
 * SyntaxError leaking out of JSON.parse), that runs longer than `maxMsPerCase`, that allocates far more
 * ArrayBuffer memory than its input is large (a header declaring 2^31 elements must be refused before the
 * reader allocates them), or whose parsed result fails the reader's own `check`.
 *
 * To fuzz a new reader (a .npy reader, a layer-list parser):
 *     const cases = byteCases(seed, [validFile1, validFile2], { count: 3000, fields: [8, 12] });  // or textCases
 *     expectClean(runFuzz({ cases, parse: (bytes) => readNpy(bytes, 'x.npy'), check: ... }));
 * Everything is a pure function of the seed, and every case says how it was made ("seed 7 #1234: flip bit 3
 * of byte 17, then truncate to 40"), so a failure can be replayed by rebuilding that one case.
 */
import { expect } from 'vitest';
import { Rng } from '../../src/data/rng';
import { WebgradError } from '../../src/errors';

export interface FuzzCase<I> {
  input: I;
  /** How the case was made, for the failure report. */
  how: string;
}

export interface FuzzOptions<I, O> {
  cases: Iterable<FuzzCase<I>>;
  parse: (input: I) => O;
  /** A problem with a parsed result (or undefined): the reader accepted something it should not have. */
  check?: (output: O, input: I) => string | undefined;
  /** Bytes a case may allocate: `fixedBytes` + `perInputByte` × the input's size (default 1 MiB + 4×). */
  allocation?: { fixedBytes?: number; perInputByte?: number };
  /**
   * Time a case may take: `maxMsPerCase` (default 250 ms, generous for a shared, loaded CPU) plus 1 ms per
   * KiB of input, since parsing is linear at best. A reader that loops on a bad length takes seconds.
   */
  maxMsPerCase?: number;
}

export interface FuzzReport {
  cases: number;
  parsed: number;
  refused: number;
  /** Refusals by error class, e.g. { DataFormatError: 2900, ShapeError: 12 }. */
  refusedBy: Record<string, number>;
  failures: string[];
  slowestMs: number;
  largestAllocation: number;
}

const sizeOf = (input: unknown): number => (typeof input === 'string' ? input.length * 2 : input instanceof Uint8Array ? input.byteLength : 0);

const arrayBufferBytes = () => process.memoryUsage().arrayBuffers;

export function runFuzz<I, O>(options: FuzzOptions<I, O>): FuzzReport {
  const fixed = options.allocation?.fixedBytes ?? 1 << 20;
  const perByte = options.allocation?.perInputByte ?? 4;
  const maxMs = options.maxMsPerCase ?? 250;
  const report: FuzzReport = { cases: 0, parsed: 0, refused: 0, refusedBy: {}, failures: [], slowestMs: 0, largestAllocation: 0 };
  const fail = (c: FuzzCase<I>, problem: string) => {
    if (report.failures.length < 50) report.failures.push(`${c.how}: ${problem}`);
  };
  for (const c of options.cases) {
    report.cases++;
    const before = arrayBufferBytes();
    const started = performance.now();
    let output: O | undefined;
    let error: unknown;
    let threw = false;
    try {
      output = options.parse(c.input);
    } catch (e) {
      threw = true;
      error = e;
    }
    const ms = performance.now() - started;
    // Measured while `output` is still referenced, so what the reader kept counts too.
    const allocated = arrayBufferBytes() - before;
    report.slowestMs = Math.max(report.slowestMs, ms);
    report.largestAllocation = Math.max(report.largestAllocation, allocated);
    const timeLimit = maxMs + sizeOf(c.input) / 1024;
    if (ms > timeLimit) fail(c, `took ${ms.toFixed(0)} ms (limit ${timeLimit.toFixed(0)})`);
    const limit = fixed + perByte * sizeOf(c.input);
    if (allocated > limit) fail(c, `allocated ${allocated} bytes for a ${sizeOf(c.input)}-byte input (limit ${limit})`);
    if (threw) {
      if (error instanceof WebgradError) {
        report.refused++;
        report.refusedBy[error.name] = (report.refusedBy[error.name] ?? 0) + 1;
        if (!error.message) fail(c, `${error.name} without a message`);
      } else {
        const e = error as Error;
        fail(c, `threw ${e?.name ?? typeof error}: ${e?.message ?? String(error)}`);
      }
    } else {
      report.parsed++;
      const problem = options.check?.(output as O, c.input);
      if (problem) fail(c, `parsed, but ${problem}`);
    }
  }
  return report;
}

/** Fails the test with the first failures listed; otherwise returns the report for further expectations. */
export function expectClean(report: FuzzReport, minimumCases = 1000): FuzzReport {
  expect(report.failures, `${report.failures.length} failing cases of ${report.cases}:\n${report.failures.slice(0, 15).join('\n')}`).toEqual([]);
  expect(report.cases).toBeGreaterThanOrEqual(minimumCases);
  return report;
}

// ---------------------------------------------------------------------------------------------------------
// Bytes

/** Lengths to truncate an n-byte input to: every length up to 40, powers of two ± 1, and the last 16. */
export function truncationLengths(n: number): number[] {
  const lengths = new Set<number>();
  for (let i = 0; i <= Math.min(n, 40); i++) lengths.add(i);
  for (let p = 32; p < n; p *= 2) for (const l of [p - 1, p, p + 1]) if (l < n) lengths.add(l);
  for (let i = Math.max(0, n - 16); i < n; i++) lengths.add(i);
  return [...lengths].sort((a, b) => a - b);
}

/** Values that break length and size fields: zero, one, sign bits, all ones, 2^31, 2^53. */
export const INTERESTING_U32 = [0, 1, 2, 0x7f, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
export const INTERESTING_U64 = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x30, 0x39, 0x2d];

type ByteMutation = (bytes: Uint8Array, rng: Rng, fields: readonly number[]) => { bytes: Uint8Array; how: string };

const at = (rng: Rng, n: number) => (n === 0 ? 0 : rng.nextBelow(n));
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.nextBelow(xs.length)];

const byteMutations: ByteMutation[] = [
  (b, rng) => {
    const i = at(rng, b.length);
    const bit = rng.nextBelow(8);
    const out = b.slice();
    if (out.length) out[i] ^= 1 << bit;
    return { bytes: out, how: `flip bit ${bit} of byte ${i}` };
  },
  (b, rng) => {
    const i = at(rng, b.length);
    const value = pick(rng, INTERESTING_BYTES);
    const out = b.slice();
    if (out.length) out[i] = value;
    return { bytes: out, how: `set byte ${i} to 0x${value.toString(16)}` };
  },
  (b, rng) => {
    const i = at(rng, b.length + 1);
    const n = 1 + rng.nextBelow(8);
    const inserted = Uint8Array.from({ length: n }, () => (rng.nextBelow(2) ? pick(rng, INTERESTING_BYTES) : rng.nextBelow(256)));
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, i));
    out.set(inserted, i);
    out.set(b.subarray(i), i + n);
    return { bytes: out, how: `insert ${n} bytes at ${i}` };
  },
  (b, rng) => {
    const i = at(rng, b.length);
    const n = Math.min(b.length - i, 1 + rng.nextBelow(8));
    const out = new Uint8Array(b.length - n);
    out.set(b.subarray(0, i));
    out.set(b.subarray(i + n), i);
    return { bytes: out, how: `delete ${n} bytes at ${i}` };
  },
  (b, rng) => {
    const i = at(rng, b.length);
    const n = Math.min(b.length - i, 1 + rng.nextBelow(32));
    const j = at(rng, b.length + 1);
    const chunk = b.slice(i, i + n);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, j));
    out.set(chunk, j);
    out.set(b.subarray(j), j + n);
    return { bytes: out, how: `copy ${n} bytes from ${i} to ${j}` };
  },
  // A huge (or zero) length, size or count in a header field the caller named, else anywhere.
  (b, rng, fields) => {
    const offset = fields.length && rng.nextBelow(4) ? pick(rng, fields) : at(rng, Math.max(1, b.length - 3));
    const out = b.slice();
    if (out.length < offset + 4) return { bytes: out, how: 'no room for a u32' };
    const view = new DataView(out.buffer);
    const value = pick(rng, INTERESTING_U32);
    const little = rng.nextBelow(2) === 1;
    view.setUint32(offset, value, little);
    return { bytes: out, how: `write u32 0x${value.toString(16)} (${little ? 'LE' : 'BE'}) at ${offset}` };
  },
  (b, rng, fields) => {
    const offset = fields.length && rng.nextBelow(4) ? pick(rng, fields) : at(rng, Math.max(1, b.length - 7));
    const out = b.slice();
    if (out.length < offset + 8) return { bytes: out, how: 'no room for a u64' };
    const value = pick(rng, INTERESTING_U64);
    new DataView(out.buffer).setBigUint64(offset, value, true);
    return { bytes: out, how: `write u64 ${value} (LE) at ${offset}` };
  },
];

export interface ByteCaseOptions {
  /** Random mutation cases after the truncations (default 2000). */
  count?: number;
  /** Offsets of length, size and count fields, where huge values go most often. */
  fields?: readonly number[];
  /** At most this many mutations stacked in one case (default 3). */
  depth?: number;
}

/** Every truncation of every seed input, then `count` seeded stacks of byte mutations. */
export function* byteCases(seed: number, corpus: readonly Uint8Array[], options: ByteCaseOptions = {}): Generator<FuzzCase<Uint8Array>> {
  for (const [k, input] of corpus.entries()) {
    yield { input, how: `corpus ${k} unchanged` };
    for (const n of truncationLengths(input.length)) yield { input: input.slice(0, n), how: `corpus ${k} truncated to ${n} of ${input.length} bytes` };
  }
  const rng = new Rng(seed);
  for (let i = 0; i < (options.count ?? 2000); i++) {
    const k = rng.nextBelow(corpus.length);
    let bytes = corpus[k];
    const steps: string[] = [];
    const depth = 1 + rng.nextBelow(options.depth ?? 3);
    for (let d = 0; d < depth; d++) {
      const mutated = pick(rng, byteMutations)(bytes, rng, options.fields ?? []);
      bytes = mutated.bytes;
      steps.push(mutated.how);
    }
    if (rng.nextBelow(8) === 0) {
      const n = rng.nextBelow(bytes.length + 1);
      bytes = bytes.slice(0, n);
      steps.push(`truncate to ${n}`);
    }
    yield { input: bytes, how: `seed ${seed} #${i} (corpus ${k}): ${steps.join(', then ')}` };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Text and JSON

/**
 * Words that trip text parsers: names every object inherits (`x in table` is true for them), numbers that
 * are not quite numbers, structure characters, whitespace and control characters.
 */
export const TRICKY_WORDS = [
  'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype',
  'NaN', 'Infinity', '-Infinity', '1e308', '1e309', '-0', '0x10', '0b1', '1_000', '9007199254740993', '-1', '0', '0.5', '.5', '5.', '2147483648', '4294967296',
  '{', '}', '[', ']', ',', ':', '"', '=', '-', '--', '==', ' ', '\t', '\n', '\u0000', '\u00a0', '\ud800', '😀', 'null', 'true', '""',
];

type TextMutation = (text: string, rng: Rng, words: readonly string[]) => { text: string; how: string };

const textMutations: TextMutation[] = [
  (t, rng) => {
    const i = at(rng, t.length);
    return { text: t.slice(0, i) + t.slice(i + 1), how: `delete char ${i}` };
  },
  (t, rng) => {
    const i = at(rng, t.length + 1);
    const n = 1 + rng.nextBelow(Math.max(1, t.length - i));
    return { text: t.slice(0, i) + t.slice(i + n), how: `delete ${n} chars at ${i}` };
  },
  (t, rng, words) => {
    const i = at(rng, t.length + 1);
    const w = pick(rng, words);
    return { text: t.slice(0, i) + w + t.slice(i), how: `insert ${JSON.stringify(w)} at ${i}` };
  },
  (t, rng, words) => {
    const parts = t.split(/(\s+|[-=,:{}[\]"])/);
    const i = at(rng, parts.length);
    const w = pick(rng, words);
    parts[i] = w;
    return { text: parts.join(''), how: `replace token ${i} by ${JSON.stringify(w)}` };
  },
  (t, rng) => {
    const i = at(rng, t.length);
    const n = Math.min(t.length - i, 1 + rng.nextBelow(12));
    const j = at(rng, t.length + 1);
    return { text: t.slice(0, j) + t.slice(i, i + n) + t.slice(j), how: `copy ${n} chars from ${i} to ${j}` };
  },
  (t, rng) => {
    const n = rng.nextBelow(t.length + 1);
    return { text: t.slice(0, n), how: `truncate to ${n} chars` };
  },
];

/** One to `depth` stacked text mutations of `text`. */
export function mutateText(text: string, rng: Rng, words: readonly string[] = TRICKY_WORDS, depth = 3): { text: string; how: string } {
  const steps: string[] = [];
  const n = 1 + rng.nextBelow(depth);
  for (let d = 0; d < n; d++) {
    const mutated = pick(rng, textMutations)(text, rng, words);
    text = mutated.text;
    steps.push(mutated.how);
  }
  return { text, how: steps.join(', then ') };
}

/** Every truncation of every seed text, then `count` seeded stacks of text mutations drawing on `words`. */
export function* textCases(seed: number, corpus: readonly string[], options: { count?: number; words?: readonly string[]; depth?: number } = {}): Generator<FuzzCase<string>> {
  const words = [...TRICKY_WORDS, ...(options.words ?? [])];
  for (const [k, text] of corpus.entries()) {
    yield { input: text, how: `corpus ${k} unchanged` };
    for (let n = 0; n < text.length; n++) yield { input: text.slice(0, n), how: `corpus ${k} truncated to ${n} chars` };
  }
  const rng = new Rng(seed);
  for (let i = 0; i < (options.count ?? 2000); i++) {
    const k = rng.nextBelow(corpus.length);
    const { text, how } = mutateText(corpus[k], rng, words, options.depth);
    yield { input: text, how: `seed ${seed} #${i} (corpus ${k}): ${how}` };
  }
}

/** Replacement values for a JSON node: every type, edge numbers, prototype names, and deep nesting. */
export function trickyJsonValues(rng: Rng): unknown[] {
  const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
  return [
    null, true, false, 0, -1, 1, 0.5, -0.5, 1.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 5e-324,
    '', 'x', '1', '-1', 'NaN', 'constructor', '__proto__', 'toString', 'relu', 'batch',
    [], [1], [1, 2, 3], [-1, 2], [0, 0], ['a'], [null], {}, { a: 1 }, { constructor: 1 }, JSON.parse('{"__proto__": 1}'),
    deep(200), rng.nextFloat() * 1e6, -rng.nextBelow(1000),
  ];
}

type JsonPath = (string | number)[];

function paths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function clone(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/**
 * One structural mutation of a JSON value: a node replaced by a value of another type or an edge value,
 * deleted, wrapped in an array, given an unknown sibling key, or duplicated into an array.
 */
export function mutateJson(value: unknown, rng: Rng): { value: unknown; how: string } {
  const root = { root: clone(value) } as Record<string, unknown>;
  const all = paths(root.root, ['root']);
  const path = pick(rng, all);
  let parent: Record<string | number, unknown> = root;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const key = path[path.length - 1];
  const where = path.slice(1).join('.') || '(root)';
  switch (rng.nextBelow(5)) {
    case 0: {
      const replacement = pick(rng, trickyJsonValues(rng));
      parent[key] = replacement;
      return { value: root.root, how: `set ${where} to ${JSON.stringify(replacement)?.slice(0, 40)}` };
    }
    case 1:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (path.length > 1) delete parent[key];
      return { value: root.root, how: `delete ${where}` };
    case 2:
      parent[key] = [parent[key]];
      return { value: root.root, how: `wrap ${where} in an array` };
    case 3: {
      const target = parent[key];
      const name = pick(rng, ['extra', 'constructor', '__proto__', 'toString', '']);
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
        Object.defineProperty(target, name, { value: 1, enumerable: true, configurable: true, writable: true });
        return { value: root.root, how: `add key ${JSON.stringify(name)} to ${where}` };
      }
      parent[key] = { [name]: target };
      return { value: root.root, how: `nest ${where} under key ${JSON.stringify(name)}` };
    }
    default:
      parent[key] = [parent[key], parent[key]];
      return { value: root.root, how: `duplicate ${where} into a pair` };
  }
}

/** Seeded stacks of structural JSON mutations of the seed values, as JSON text, plus deep-nesting texts. */
export function* jsonCases(seed: number, corpus: readonly unknown[], options: { count?: number; depth?: number } = {}): Generator<FuzzCase<string>> {
  for (const [k, value] of corpus.entries()) yield { input: JSON.stringify(value), how: `corpus ${k} unchanged` };
  for (const depth of [1000, 100_000]) {
    yield { input: '['.repeat(depth) + ']'.repeat(depth), how: `arrays nested ${depth} deep` };
    yield { input: `{"layers": ${'['.repeat(depth)}${']'.repeat(depth)}}`, how: `a field nested ${depth} deep` };
  }
  const rng = new Rng(seed);
  for (let i = 0; i < (options.count ?? 2000); i++) {
    const k = rng.nextBelow(corpus.length);
    let value = corpus[k];
    const steps: string[] = [];
    const depth = 1 + rng.nextBelow(options.depth ?? 3);
    for (let d = 0; d < depth; d++) {
      const mutated = mutateJson(value, rng);
      value = mutated.value;
      steps.push(mutated.how);
    }
    yield { input: JSON.stringify(value) ?? 'undefined', how: `seed ${seed} #${i} (corpus ${k}): ${steps.join(', then ')}` };
  }
}
