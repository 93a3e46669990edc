// The built CLI as a user runs it (`node dist/train.js ...`): the real exit status and stderr of bad
// invocations, --help, and one short real run with a checkpoint and a resume, whose stderr must be empty.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, STACK_FRAME, temporaryFolder } from '../helpers/cli';
import { KERAS_FILES } from '../../src/data/keras';
import { encodeNpy } from '../../src/data/npy';

let dir = '';
beforeAll(() => {
  dir = temporaryFolder('spawn');
  writeFileSync(join(dir, 'notes.txt'), 'hello\n');
  // A Keras-named folder as np.save writes it from keras.datasets: float64 x [N, 28, 28], int64 y, five
  // classes, each a bright band of rows on a dim background (easy to learn in one epoch).
  mkdirSync(join(dir, 'keras'));
  const split = (n: number) => {
    const x = new Float64Array(n * 784);
    const y = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const label = i % 5;
      y[i] = BigInt(label);
      for (let p = 0; p < 784; p++) x[i * 784 + p] = Math.floor(p / 28) >= label * 5 && Math.floor(p / 28) < label * 5 + 5 ? 0.9 : ((i * 31 + p * 7) % 13) / 100;
    }
    return { x: encodeNpy([n, 28, 28], x), y: encodeNpy([n], y) };
  };
  const train = split(300);
  const test = split(100);
  writeFileSync(join(dir, 'keras', KERAS_FILES.xTrain), train.x);
  writeFileSync(join(dir, 'keras', KERAS_FILES.yTrain), train.y);
  writeFileSync(join(dir, 'keras', KERAS_FILES.xTest), test.x);
  writeFileSync(join(dir, 'keras', KERAS_FILES.yTest), test.y);
});

describe('node dist/*.js', () => {
  it.each([
    ['train.js', ['--lrr', '0.1'], /^webgrad train: unknown flag --lrr; did you mean --lr\?$/],
    ['train.js', ['--epochs', '-1'], /^webgrad train: --epochs expects a non-negative integer; got '-1'$/],
    ['train.js', ['--optimizer', 'adamx'], /did you mean adam\?\)$/],
    ['train.js', ['--data', '/nonexistent'], /^webgrad train: --data expects a folder holding the four MNIST IDX files or the four Keras NumPy files \(x_train\.npy, y_train\.npy, x_test\.npy, y_test\.npy\); got '\/nonexistent' \(no such file or folder\)$/],
    ['train.js', ['--classes', '4-1'], /^webgrad train: --classes expects class numbers and ranges .*; got '4-1' \(the range 4-1 runs backwards; write 1-4\)$/],
    ['train.js', ['--resume', 'NOTES'], /^webgrad train: --resume expects a webgrad checkpoint of this model; got '.*notes\.txt' \(.*not a webgrad checkpoint/],
    ['train.js', ['--model', '784-10 fancy'], /^webgrad train: --model expects .*Unknown word 'fancy'/],
    ['search.js', ['--mode', 'gird'], /^webgrad search: --mode expects one of random, grid; got 'gird' \(did you mean grid\?\)$/],
    ['init_experiment.js', ['--depth', '0'], /^webgrad init-experiment: --depth expects an integer in \[1, 1000\]; got '0'$/],
  ])('%s %j: exit status 2, one line on stderr, no stack frame', (script, args, says) => {
    const run = runBuilt(script, args.map((a) => a.replace('NOTES', join(dir, 'notes.txt'))));
    expect(run.status).toBe(2);
    expect(run.out).toEqual([]);
    expect(run.err, run.stderr).toHaveLength(1);
    expect(run.err[0]).toMatch(says);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it('--help prints the flags and exits 0', () => {
    const run = runBuilt('train.js', ['--help']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: npm run train -- \[options\]\n/);
    expect(run.stdout).toMatch(/--lr X +learning rate \(default 0.05\)/);
  });

  it('a short run on a Keras .npy folder with --classes and a Conv2d model: JSON lines on stdout, nothing on stderr', () => {
    // [N, 28, 28] samples arrive as [1, 28, 28], so a Conv2d with one input channel takes them as they are.
    const model = '[{"type":"Conv2d","in_channels":1,"out_channels":2,"kernel_size":3,"stride":2},{"type":"ReLU"},{"type":"Flatten"},{"type":"Linear","in_features":338,"out_features":3}]';
    const run = runBuilt('train.js', ['--data', join(dir, 'keras'), '--classes', '0-2', '--model', model, '--epochs', '1', '--batch-size', '50', '--json'], { timeoutMs: 240_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.out.map((line) => JSON.parse(line));
    expect(lines.map((l) => l.epoch ?? 'final')).toEqual([1, 'final']);
    expect(lines[1].testAccuracy).toBeGreaterThan(0.5);
  }, 240_000);

  it('a short run with a checkpoint, then a resume: JSON lines on stdout, nothing on stderr', () => {
    const checkpoint = join(dir, 'run.safetensors');
    const common = ['--subset', '300', '--batch-size', '100', '--layers', '784-16-10', '--json'];
    const first = runBuilt('train.js', [...common, '--epochs', '1', '--checkpoint', checkpoint], { timeoutMs: 240_000 });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.out.map((line) => JSON.parse(line).epoch ?? 'final')).toEqual([1, 'final']);
    const resumed = runBuilt('train.js', [...common, '--epochs', '2', '--resume', checkpoint], { timeoutMs: 240_000 });
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const lines = resumed.out.map((line) => JSON.parse(line));
    expect(lines.map((l) => l.epoch ?? 'final')).toEqual([2, 'final']);
    expect(lines[1].testAccuracy).toBeGreaterThan(0.3);
  }, 480_000);
});
