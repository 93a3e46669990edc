/**
 * Command-line flags as data. Each command declares one table, `{ 'flag-name': kind({ ...row }) }`; from it
 * `parseFlags` reads argv and checks every value before the command does any work, and `formatHelp` writes
 * `--help` (every flag, its placeholder, what it does, and its default).
 *
 * Adding a flag is one row in the command's table, for example
 *     'label-smoothing': number({ min: 0, max: 1, maxExclusive: true, default: 0, help: 'smooth the targets by ε' }),
 * after which `values['label-smoothing']` is a number (typed from the row: `number | undefined` when the row
 * has no default). The kinds:
 *     int, number   finite values; range from min/max (inclusive unless minExclusive/maxExclusive). A row
 *                   without `min` accepts negative values: `--offset -3` reads -3.
 *     string        any non-empty text
 *     boolean       present or absent (`--json`); takes no value
 *     choice        one of a list; a near miss gets a suggestion (`--optimizer adamx`: did you mean adam?)
 *     file          an existing, readable file (`--resume`)
 *     dir           an existing folder, with an optional check of what it holds (`--data`)
 *     output        a file to write, in an existing, writable folder (`--save`, `--checkpoint`)
 *     spec          text turned into a value by a function that throws a WebgradError (`--model`, `--schedule`)
 *
 * Syntax: `--name value` or `--name=value`; a value may begin with '-' (`--lr -1` is read, then refused by
 * the range), but not with '--' (`--lr --epochs 3` is a missing value). A flag given twice keeps the last
 * value. `--` ends the flags. `-h` and `--help` print the help whatever else is on the line.
 * Every mistake is a UsageError whose one-line message names the flag and the value and says what was
 * expected: `--lr expects a positive number; got '-1'`.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, WebgradError } from '../errors';

export interface Flag<T> {
  /** Placeholder in --help: N, X, NAME, FILE, DIR ('' for booleans, which take no value). */
  readonly metavar: string;
  readonly help: string;
  /** The value when the flag is absent. */
  readonly default: T;
  /** The default as --help shows it. */
  readonly defaultText: string;
  /** What a value must be, as messages say it: 'a positive integer', 'one of sgd, adam'. */
  readonly expected: string;
  readonly takesValue: boolean;
  /** Text to value; throws InvalidValue (or any WebgradError) when the text is not what `expected` says. */
  readonly parse: (text: string) => T;
}

export type FlagTable = Readonly<Record<string, Flag<unknown>>>;
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: T[K] extends Flag<infer V> ? V : never };

/** Thrown by a row's `parse`; `detail` (optional) follows the standard message in parentheses. */
export class InvalidValue extends WebgradError {
  constructor(readonly detail?: string) {
    super(detail ?? 'invalid value');
  }
}

interface RowOptions<T> {
  help: string;
  default?: T;
  /** How --help shows the default, when String(default) is not it (or there is no default). */
  defaultText?: string;
  metavar?: string;
}

export interface RangeOptions {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** A row's value type: T when the row has a default, T | undefined when it has none. */
type Row<T, O> = Flag<O extends { default: T } ? T : T | undefined>;

function row<T>(o: RowOptions<T>, fields: { metavar: string; expected: string; parse: (text: string) => T; takesValue?: boolean }): Flag<T> {
  const shown = o.defaultText ?? (o.default === undefined ? 'none' : String(o.default));
  return { help: o.help, default: o.default as T, defaultText: shown, takesValue: true, ...fields, metavar: o.metavar ?? fields.metavar };
}

const NUMBER_SYNTAX = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** 'a positive integer', 'a number in [0, 1)', 'a non-negative number' ... */
export function rangeText(noun: 'integer' | 'number', r: RangeOptions): string {
  const a = noun === 'integer' ? 'an' : 'a';
  const { min, max, minExclusive, maxExclusive } = r;
  if (min !== undefined && max !== undefined) return `${a} ${noun} in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (max !== undefined) return `${a} ${noun} ${maxExclusive ? '<' : '≤'} ${max}`;
  if (min === undefined) return `${a} ${noun}`;
  if (min === 0) return minExclusive ? `a positive ${noun}` : `a non-negative ${noun}`;
  if (min === 1 && noun === 'integer' && !minExclusive) return 'a positive integer';
  return `${a} ${noun} ${minExclusive ? '>' : '≥'} ${min}`;
}

function inRange(value: number, r: RangeOptions): boolean {
  if (r.min !== undefined && (r.minExclusive ? !(value > r.min) : !(value >= r.min))) return false;
  if (r.max !== undefined && (r.maxExclusive ? !(value < r.max) : !(value <= r.max))) return false;
  return true;
}

/** A finite decimal number (no hex, no 'Infinity', no empty text), for rows of kind spec; else InvalidValue. */
export function readNumber(text: string): number {
  const value = Number(text);
  if (!NUMBER_SYNTAX.test(text.trim()) || !Number.isFinite(value)) throw new InvalidValue();
  return value;
}

function numeric(integer: boolean, r: RangeOptions): (text: string) => number {
  return (text) => {
    const value = readNumber(text);
    if (integer && !Number.isSafeInteger(value)) throw new InvalidValue();
    if (!inRange(value, r)) throw new InvalidValue();
    return value;
  };
}

export function int<O extends RowOptions<number> & RangeOptions>(o: O): Row<number, O> {
  return row(o, { metavar: 'N', expected: rangeText('integer', o), parse: numeric(true, o) }) as never;
}

export function number<O extends RowOptions<number> & RangeOptions>(o: O): Row<number, O> {
  return row(o, { metavar: 'X', expected: rangeText('number', o), parse: numeric(false, o) }) as never;
}

export function string<O extends RowOptions<string>>(o: O): Row<string, O> {
  return row(o, { metavar: 'TEXT', expected: 'some text', parse: (text) => text }) as never;
}

export function boolean(o: { help: string }): Flag<boolean> {
  return { help: o.help, default: false, defaultText: 'off', metavar: '', expected: 'no value', takesValue: false, parse: () => true };
}

export function choice<const C extends string, O extends RowOptions<C>>(choices: readonly C[], o: O): Row<C, O> {
  return row(o, {
    metavar: 'NAME',
    expected: `one of ${choices.join(', ')}`,
    parse: (text) => {
      if ((choices as readonly string[]).includes(text)) return text as C;
      const guess = nearest(text, choices);
      throw new InvalidValue(guess && `did you mean ${guess}?`);
    },
  }) as never;
}

/** Text parsed by `parse`; its WebgradError's message becomes the detail of the UsageError. */
export function spec<O extends RowOptions<ReturnType<O['parse']>> & { parse: (text: string) => unknown; expected: string; metavar: string }>(
  o: O,
): Row<ReturnType<O['parse']>, O> {
  return row(o as RowOptions<unknown>, { metavar: o.metavar, expected: o.expected, parse: o.parse }) as never;
}

function stat(path: string) {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidValue(code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file or folder' : `cannot read it: ${code ?? String(error)}`);
  }
}

function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** An existing, readable file; the value is the path as given. */
export function file<O extends RowOptions<string>>(o: O): Row<string, O> {
  return row(o, {
    metavar: 'FILE',
    expected: 'a readable file',
    parse: (path) => {
      if (stat(path).isDirectory()) throw new InvalidValue('it is a folder');
      if (!accessible(path, constants.R_OK)) throw new InvalidValue('permission denied');
      return path;
    },
  }) as never;
}

/** An existing folder; `contents` returns what is wrong with what it holds, if anything. */
export function dir<O extends RowOptions<string> & { expected?: string; contents?: (dir: string) => string | undefined }>(o: O): Row<string, O> {
  return row(o, {
    metavar: 'DIR',
    expected: o.expected ?? 'a folder',
    parse: (path) => {
      if (!stat(path).isDirectory()) throw new InvalidValue('it is a file, not a folder');
      const problem = o.contents?.(path);
      if (problem) throw new InvalidValue(problem);
      return path;
    },
  }) as never;
}

/** A file to be written: its folder must exist and be writable, and the path must not be a folder. */
export function output<O extends RowOptions<string>>(o: O): Row<string, O> {
  return row(o, {
    metavar: 'FILE',
    expected: 'a file path in an existing, writable folder',
    parse: (path) => {
      const folder = dirname(resolve(path));
      let info;
      try {
        info = statSync(folder);
      } catch {
        throw new InvalidValue(`folder ${folder} does not exist`);
      }
      if (!info.isDirectory()) throw new InvalidValue(`${folder} is not a folder`);
      if (!accessible(folder, constants.W_OK)) throw new InvalidValue(`folder ${folder} is not writable`);
      try {
        if (statSync(path).isDirectory()) throw new InvalidValue('it is a folder');
      } catch (error) {
        if (error instanceof InvalidValue) throw error;
      }
      return path;
    },
  }) as never;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const commonPrefix = (a: string, b: string) => {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
};

/**
 * The candidate nearest to `word` when it is a plausible typo (edit distance at most a third of the longer
 * word, at least 1; ties go to the longer common prefix, then to the earlier candidate), else the only
 * candidate `word` begins (`--batch` for --batch-size), else undefined.
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (w.length > 64) return undefined; // a typo is short; don't spend quadratic time on a pasted blob
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const distance = editDistance(w, c);
    if (distance > Math.max(1, Math.floor(Math.max(w.length, c.length) / 3))) continue;
    if (distance < bestDistance || (distance === bestDistance && commonPrefix(w, c) > commonPrefix(w, best!.toLowerCase()))) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const extending = w.length >= 2 ? candidates.filter((c) => c.toLowerCase().startsWith(w)) : [];
  return extending.length === 1 ? extending[0] : undefined;
}

export type ParsedFlags<T extends FlagTable> =
  | { help: true }
  | {
      help: false;
      values: FlagValues<T>;
      /** The flags given on the command line (the others hold their defaults). */
      given: ReadonlySet<keyof T & string>;
    };

/** Text as a message shows it: control characters escaped (the message stays one line), cut at `max`. */
export function shown(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return cut.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** The UsageError for `--name` given `text` (undefined: no value at all). */
export function flagError(name: string, flag: Pick<Flag<unknown>, 'expected'>, text: string | undefined, detail?: string): UsageError {
  const got = text === undefined ? 'nothing' : `'${shown(text)}'`;
  return new UsageError(`--${shown(name)} expects ${flag.expected}; got ${got}${detail ? ` (${shown(detail.replace(/\s*\n\s*/g, ' '), 2000)})` : ''}`, name, text);
}

function parseValue(name: string, flag: Flag<unknown>, text: string): unknown {
  if (text === '') throw flagError(name, flag, text);
  try {
    return flag.parse(text);
  } catch (error) {
    if (error instanceof InvalidValue) throw flagError(name, flag, text, error.detail);
    if (error instanceof WebgradError) throw flagError(name, flag, text, error.message);
    throw error;
  }
}

export function parseFlags<T extends FlagTable>(table: T, argv: readonly string[]): ParsedFlags<T> {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) return { help: true };
  const names = Object.keys(table);
  const values: Record<string, unknown> = Object.fromEntries(names.map((name) => [name, table[name].default]));
  const given = new Set<string>();
  for (let i = 0; i < flags.length; i++) {
    const arg = flags[i];
    if (!arg.startsWith('-') || arg === '-') {
      throw new UsageError(`unexpected argument '${shown(arg)}'; every option is a --flag (run with --help for the list)`, undefined, arg);
    }
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg : arg.slice(0, eq)).replace(/^--?/, '');
    if (!Object.hasOwn(table, name) || !arg.startsWith('--')) {
      const guess = nearest(name, [...names, 'help']);
      throw new UsageError(`unknown flag ${shown(eq < 0 ? arg : arg.slice(0, eq))}${guess ? `; did you mean --${guess}?` : '; run with --help for the list'}`, name);
    }
    const flag = table[name];
    given.add(name);
    if (!flag.takesValue) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value; got '${shown(arg.slice(eq + 1))}'`, name, arg.slice(eq + 1));
      values[name] = flag.parse('');
      continue;
    }
    let text: string | undefined;
    if (eq >= 0) {
      text = arg.slice(eq + 1);
    } else {
      text = flags[i + 1];
      if (text === undefined || text.startsWith('--')) {
        throw flagError(name, flag, undefined, text === undefined ? 'the value is missing' : `the value is missing before ${shown(text)}`);
      }
      i++;
    }
    values[name] = parseValue(name, flag, text);
  }
  if (end >= 0 && end < argv.length - 1) {
    throw new UsageError(`unexpected argument '${shown(argv[end + 1])}' after '--'; this command takes only --flags`, undefined, argv[end + 1]);
  }
  return { help: false, values: values as FlagValues<T>, given: given as ReadonlySet<keyof T & string> };
}

/** The --help text: `usage`, then one line per flag (continuation lines indented) ending with its default. */
export function formatHelp(usage: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([name, flag]) => ({
    left: `  --${name}${flag.metavar ? ` ${flag.metavar}` : ''}`,
    right: `${flag.help} (default ${flag.defaultText})`,
  }));
  rows.push({ left: '  -h, --help', right: 'print this list and exit' });
  const width = Math.min(28, Math.max(...rows.map((r) => r.left.length)) + 2);
  const lines = [usage];
  for (const { left, right } of rows) {
    const [first, ...rest] = right.split('\n');
    if (left.length + 2 > width) lines.push(left, ' '.repeat(width) + first);
    else lines.push(left.padEnd(width) + first);
    for (const more of rest) lines.push(' '.repeat(width) + more.trim());
  }
  return lines.join('\n');
}
