// The flag table: parsing, validation, suggestions and the generated --help, on a table made up for the test.
import { describe, expect, it } from 'vitest';
import { boolean, choice, editDistance, formatHelp, int, nearest, number, parseFlags, rangeText, spec, InvalidValue, type FlagTable } from '../../src/cli/flags';
import { UsageError } from '../../src/errors';

const table = {
  count: int({ min: 1, default: 3, help: 'how many' }),
  offset: number({ default: 0, help: 'a shift; negative values are meaningful' }),
  rate: number({ min: 0, max: 1, maxExclusive: true, help: 'a rate' }),
  colour: choice(['red', 'green', 'blue'] as const, { default: 'red', help: 'a colour' }),
  pair: spec({ metavar: 'A:B', expected: 'two integers joined by a colon', help: 'a pair', parse: (t) => {
    const m = /^(\d+):(\d+)$/.exec(t);
    if (!m) throw new InvalidValue('write A:B');
    return [Number(m[1]), Number(m[2])] as const;
  } }),
  verbose: boolean({ help: 'say more' }),
} satisfies FlagTable;

function parsed(argv: string[]) {
  const result = parseFlags(table, argv);
  if (result.help) throw new Error('unexpected --help');
  return result;
}

function refusal(argv: string[]): UsageError {
  try {
    parseFlags(table, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain('\n');
    return error as UsageError;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('parseFlags', () => {
  it('returns the defaults, then the values given, in both spellings', () => {
    expect(parsed([]).values).toEqual({ count: 3, offset: 0, rate: undefined, colour: 'red', pair: undefined, verbose: false });
    const { values, given } = parsed(['--count', '7', '--rate=0.25', '--colour', 'blue', '--pair', '2:5', '--verbose']);
    expect(values).toEqual({ count: 7, offset: 0, rate: 0.25, colour: 'blue', pair: [2, 5], verbose: true });
    expect([...given].sort()).toEqual(['colour', 'count', 'pair', 'rate', 'verbose']);
  });

  it('accepts a negative value where the row has no minimum, as a value and not a flag', () => {
    expect(parsed(['--offset', '-3']).values.offset).toBe(-3);
    expect(parsed(['--offset=-0.5']).values.offset).toBe(-0.5);
    expect(parsed(['--offset', '-1e-3', '--count', '2']).values).toMatchObject({ offset: -0.001, count: 2 });
  });

  it('keeps the last value of a repeated flag', () => {
    expect(parsed(['--count', '2', '--count', '5']).values.count).toBe(5);
  });

  it('refuses numbers of the wrong syntax, type or range, naming the flag, the value and the range', () => {
    expect(refusal(['--count', '0']).message).toBe("--count expects a positive integer; got '0'");
    expect(refusal(['--count', '2.5']).message).toBe("--count expects a positive integer; got '2.5'");
    expect(refusal(['--count', '0x10']).message).toBe("--count expects a positive integer; got '0x10'");
    expect(refusal(['--count', '1e400']).message).toMatch(/got '1e400'/);
    expect(refusal(['--count', '9007199254740993']).message).toMatch(/positive integer/);
    expect(refusal(['--offset', 'Infinity']).message).toBe("--offset expects a number; got 'Infinity'");
    expect(refusal(['--offset', 'NaN']).message).toBe("--offset expects a number; got 'NaN'");
    expect(refusal(['--rate', '1']).message).toBe("--rate expects a number in [0, 1); got '1'");
    expect(refusal(['--rate=']).message).toBe("--rate expects a number in [0, 1); got ''");
    const error = refusal(['--rate', '-0.1']);
    expect([error.flag, error.value]).toEqual(['rate', '-0.1']);
  });

  it('says when a value is missing', () => {
    expect(refusal(['--count']).message).toBe('--count expects a positive integer; got nothing (the value is missing)');
    expect(refusal(['--count', '--verbose']).message).toBe('--count expects a positive integer; got nothing (the value is missing before --verbose)');
  });

  it('suggests the nearest flag or choice', () => {
    expect(refusal(['--cuont', '2']).message).toBe('unknown flag --cuont; did you mean --count?');
    expect(refusal(['--colours', 'red']).message).toBe('unknown flag --colours; did you mean --colour?');
    expect(refusal(['--verb']).message).toBe('unknown flag --verb; did you mean --verbose?');
    expect(refusal(['--hepl']).message).toBe('unknown flag --hepl; did you mean --help?');
    expect(refusal(['--zzz=1']).message).toBe('unknown flag --zzz; run with --help for the list');
    expect(refusal(['-c', '1']).message).toBe('unknown flag -c; run with --help for the list');
    expect(refusal(['--colour', 'gren']).message).toBe("--colour expects one of red, green, blue; got 'gren' (did you mean green?)");
    expect(refusal(['--colour', 'purple']).message).toBe("--colour expects one of red, green, blue; got 'purple'");
  });

  it('passes a spec parser\'s reason on, and refuses values for booleans and stray arguments', () => {
    expect(refusal(['--pair', '1-2']).message).toBe("--pair expects two integers joined by a colon; got '1-2' (write A:B)");
    expect(refusal(['--verbose=yes']).message).toBe("--verbose takes no value; got 'yes'");
    expect(refusal(['extra']).message).toMatch(/^unexpected argument 'extra'/);
    expect(refusal(['--count', '1', '--', 'extra']).message).toMatch(/^unexpected argument 'extra' after '--'/);
  });

  it('answers --help or -h before checking anything else', () => {
    expect(parseFlags(table, ['--count', 'x', '--help']).help).toBe(true);
    expect(parseFlags(table, ['-h']).help).toBe(true);
  });
});

describe('helpers', () => {
  it('edit distance counts insertions, deletions, substitutions and swaps', () => {
    expect(editDistance('lr', 'lr')).toBe(0);
    expect(editDistance('lrr', 'lr')).toBe(1);
    expect(editDistance('bacth', 'batch')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('nearest prefers the closest, then the longer shared prefix, then the earlier candidate', () => {
    expect(nearest('adamx', ['sgd', 'adam', 'adamw'])).toBe('adam');
    expect(nearest('Adam', ['sgd', 'adam'])).toBe('adam');
    expect(nearest('learning-rate', ['lr', 'epochs'])).toBeUndefined();
    expect(nearest('batch', ['batch-size', 'lr'])).toBe('batch-size');
  });

  it('range texts read as English', () => {
    expect(rangeText('integer', { min: 1 })).toBe('a positive integer');
    expect(rangeText('integer', { min: 0 })).toBe('a non-negative integer');
    expect(rangeText('number', { min: 0, minExclusive: true })).toBe('a positive number');
    expect(rangeText('number', {})).toBe('a number');
    expect(rangeText('integer', { min: 0, max: 9 })).toBe('an integer in [0, 9]');
    expect(rangeText('number', { min: 2 })).toBe('a number ≥ 2');
  });
});

describe('formatHelp', () => {
  it('lists every flag with its placeholder and its default, continuation lines indented', () => {
    const help = formatHelp('Usage: test [options]', table);
    const lines = help.split('\n');
    expect(lines[0]).toBe('Usage: test [options]');
    for (const [name, flag] of Object.entries(table)) {
      const line = lines.find((l) => l.startsWith(`  --${name} `) || l === `  --${name}`);
      expect(line, name).toBeDefined();
      if (flag.metavar) expect(line).toContain(`--${name} ${flag.metavar}`);
      expect(line).toContain(`(default ${flag.defaultText})`);
    }
    expect(help).toContain('(default 3)');
    expect(help).toContain('--rate X');
    expect(help).toMatch(/--rate X +a rate \(default none\)/);
    expect(help).toMatch(/--verbose +say more \(default off\)/);
    expect(help).toContain('-h, --help');
  });
});
