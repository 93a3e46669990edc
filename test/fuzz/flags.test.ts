// Fuzzed command lines for `npm run train`: every argv is parsed (and combined into settings) or refused with
// a typed error; none crashes. Values come from a pool of near misses for each flag kind.
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/cli/flags';
import { UsageError } from '../../src/errors';
import { parseAugment, trainFlags } from '../../src/cli/train';
import { parseSchedule, LrScheduler } from '../../src/optim/schedule';
import { Rng } from '../../src/data/rng';
import { expectClean, mutateText, pick, runFuzz, textCases, TRICKY_WORDS, type FuzzCase } from '../helpers/fuzz';

const names = Object.keys(trainFlags);
const values = ['0', '1', '-1', '1.5', '1e3', '0x10', '', 'abc', 'adam', 'relu', 'batch', 'cosine:10', 'step:2:0.5', 'shift=2,rotate=10', '784-128-10', '784-10 relu', '{"layers":[784,10]}', '/nonexistent', '.', 'package.json', '--', '-', '=', ...TRICKY_WORDS];

function* argvCases(seed: number, count: number): Generator<FuzzCase<string[]>> {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const argv: string[] = [];
    for (let n = rng.nextBelow(5); n >= 0; n--) {
      const name = rng.nextBelow(8) === 0 ? mutateText(pick(rng, names), rng).text : pick(rng, names);
      const value = rng.nextBelow(3) === 0 ? mutateText(pick(rng, values), rng).text : pick(rng, values);
      const form = rng.nextBelow(4);
      if (form === 0) argv.push(`--${name}=${value}`);
      else if (form === 1) argv.push(`--${name}`);
      else argv.push(`--${name}`, value);
    }
    yield { input: argv, how: `seed ${seed} #${i}: ${JSON.stringify(argv)}` };
  }
}

describe('command lines under fuzzing', () => {
  it('3000 argv: parsed or refused with a UsageError, each refusal one line', () => {
    const report = expectClean(
      runFuzz({
        cases: argvCases(41, 3000),
        parse: (argv) => {
          try {
            return parseFlags(trainFlags, argv);
          } catch (error) {
            if (error instanceof UsageError && (error.message.includes('\n') || !error.message.includes('--'))) throw new Error(`not one line naming a flag: ${error.message}`);
            throw error;
          }
        },
        allocation: { fixedBytes: 4 << 20 },
      }),
      3000,
    );
    expect(report.parsed).toBeGreaterThan(20);
    expect(Object.keys(report.refusedBy)).toEqual(['UsageError']);
  });

  it('2000 schedules and 2000 augmentation strings: parsed and valid, or refused with a typed error', () => {
    const schedules = expectClean(
      runFuzz({
        cases: textCases(42, ['step:2:0.5', 'exp:0.98', 'cosine:10:0.001', 'plateau:0.5:3', 'constant'], { count: 2000 }),
        parse: (text) => {
          const schedule = parseSchedule(text);
          new LrScheduler(0.1, schedule);
          return schedule;
        },
      }),
      2000,
    );
    expect(schedules.parsed).toBeGreaterThan(20);
    const augment = expectClean(runFuzz({ cases: textCases(43, ['shift=2,rotate=10', 'noise=0.1,mixup=0.2'], { count: 2000 }), parse: parseAugment }), 2000);
    expect(augment.parsed).toBeGreaterThan(20);
  });
});
