/**
 * The demo's pieces that run without a browser: the settings → Trainer options mapping, the drawn-digit
 * preprocessing, the CPU predictor (checked against the GPU trainer's own test accuracy), and the
 * safetensors export/import.
 */
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, requestGpu, subset, Trainer, type MlpConfig } from '../../src/index';
import { loadMnist } from '../../src/node';
import { MNIST_SIZE, toMnist } from '../../demo/src/digit';
import { DEFAULTS, FEATURES, normalisationFor, parseLayers, settingsFromUrl, toTrainerOptions } from '../../demo/src/options';
import { activate, MlpPredictor, softmax, UnsupportedModelError } from '../../demo/src/predict';
import { decodeWeights, encodeWeights } from '../../demo/src/weights_file';
import { expectAllClose, expectValueClose } from '../helpers/compare';
import { FLOAT64 } from '../tolerances';

describe('demo settings', () => {
  it('parses layer strings and refuses ones that do not fit MNIST', () => {
    expect(parseLayers('784-128-64-10')).toEqual([784, 128, 64, 10]);
    expect(parseLayers(' 784 - 32 - 10 ')).toEqual([784, 32, 10]);
    expect(() => parseLayers('784-abc-10')).toThrow(/widths joined by '-'/);
    expect(() => parseLayers('100-10')).toThrow(/first width must be 784/);
    expect(() => parseLayers('784-128-9')).toThrow(/last width must be 10/);
  });

  it('reads URL parameters over the defaults', () => {
    const s = settingsFromUrl('?subset=3000&epochs=2&optimizer=sgd&layers=784-32-10&unknown=1');
    expect(s).toMatchObject({ subset: 3000, epochs: 2, optimizer: 'sgd', layers: '784-32-10', lr: DEFAULTS.lr });
    expect('unknown' in s).toBe(false);
  });

  it('maps the settings to Trainer options in one place', () => {
    const options = toTrainerOptions(
      { ...DEFAULTS, optimizer: 'adamw', schedule: 'cosine', epochs: 7, clipNorm: 1, weightDecay: 0.01, augmentation: 'shift+rotate', normalisation: 'batch', dropout: 0.5 },
      { mean: 0, std: 1 },
    );
    expect(options.model).toEqual({ layers: [784, 128, 64, 10], activation: 'relu', init: 'he_normal', norm: 'batch', dropout: 0.5 });
    expect(options.optimizer).toEqual({ name: 'adamw', lr: DEFAULTS.lr, weightDecay: 0.01, clipNorm: 1 });
    expect(options.schedule).toEqual({ kind: 'cosine', epochs: 7 });
    expect(options.augment).toEqual({ maxShift: 2, maxRotate: 10 });
    expect(FEATURES.normalisation.available).toBe(true);
    expect((toTrainerOptions({ ...DEFAULTS, dropout: 0 }, { mean: 0, std: 1 }).model as MlpConfig).dropout).toBeUndefined();
  });
});

describe('drawn digit → 28×28', () => {
  const W = 280;
  const blank = () => new Uint8Array(W * W);
  const rect = (img: Uint8Array, x0: number, y0: number, w: number, h: number) => {
    for (let y = y0; y < y0 + h; y++) img.fill(255, y * W + x0, y * W + x0 + w);
  };
  const bbox = (img: Uint8Array) => {
    let [minX, minY, maxX, maxY] = [MNIST_SIZE, MNIST_SIZE, -1, -1];
    img.forEach((v, i) => {
      if (v < 20) return;
      const [x, y] = [i % MNIST_SIZE, Math.floor(i / MNIST_SIZE)];
      [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
    });
    return { w: maxX - minX + 1, h: maxY - minY + 1 };
  };
  const centreOfMass = (img: Uint8Array) => {
    let [m, cx, cy] = [0, 0, 0];
    img.forEach((v, i) => ((m += v), (cx += v * ((i % MNIST_SIZE) + 0.5)), (cy += v * (Math.floor(i / MNIST_SIZE) + 0.5))));
    return { x: cx / m, y: cy / m };
  };

  it('returns zeros for an empty pad', () => {
    expect(toMnist(blank(), W, W).every((v) => v === 0)).toBe(true);
  });

  it('scales the ink to a 20-pixel box and centres it by mass, wherever it was drawn', () => {
    const img = blank();
    rect(img, 10, 150, 40, 120); // a tall bar in the lower-left corner
    const out = toMnist(img, W, W);
    expect(bbox(out).h).toBe(20);
    expect(bbox(out).w).toBeGreaterThanOrEqual(6);
    expect(bbox(out).w).toBeLessThanOrEqual(8);
    const c = centreOfMass(out);
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out)).toBe(255);
  });

  it('centres by mass, not by the bounding box', () => {
    const img = blank();
    rect(img, 100, 40, 80, 20); // thin top bar
    rect(img, 100, 60, 20, 180); // heavy left stem: mass sits left of the box centre
    const c = centreOfMass(toMnist(img, W, W));
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
  });
});

describe('CPU predictor', () => {
  it('computes a two-layer MLP like a hand-written reference', () => {
    // 3 inputs → 2 hidden (tanh) → 2 outputs.
    const weights = new Map([
      ['fc1.weight', Float32Array.from([0.5, -1, 2, 1, 0.25, -0.5])],
      ['fc1.bias', Float32Array.from([0.1, -0.2])],
      ['fc2.weight', Float32Array.from([1, -1, 0.5, 2])],
      ['fc2.bias', Float32Array.from([0, 0.3])],
    ]);
    const p = MlpPredictor.fromWeights(weights, { activation: 'tanh' });
    expect(p.widths).toEqual([3, 2, 2]);
    const pixels = [255, 0, 127.5];
    const x = pixels.map((v) => v / 255);
    // The parameters are float32: the reference uses their float32 values (0.1 is not one).
    const f = Math.fround;
    const h = [Math.tanh(0.5 * x[0] - x[1] + 2 * x[2] + f(0.1)), Math.tanh(x[0] + 0.25 * x[1] - 0.5 * x[2] + f(-0.2))];
    const logits = [h[0] - h[1], 0.5 * h[0] + 2 * h[1] + f(0.3)];
    const got = p.logits(pixels);
    expectAllClose(got, logits, FLOAT64, 'logits');
    const probabilities = p.predict(pixels);
    expectValueClose(probabilities[0] + probabilities[1], 1, FLOAT64, 'Σ probabilities');
    expectValueClose(softmax([1000, 1000])[0], 0.5, FLOAT64, 'softmax of equal huge logits');
  });

  it('matches the engine activations', () => {
    expect(activate(-2, 'relu', 0)).toBe(0);
    expectValueClose(activate(-2, 'leaky_relu', 0.1), -0.2, FLOAT64, 'leaky_relu');
    expectValueClose(activate(-1, 'elu', 1), Math.exp(-1) - 1, FLOAT64, 'elu');
    expectValueClose(activate(1, 'selu', 0), 1.0507009873554805, FLOAT64, 'selu');
    expect(activate(-800, 'sigmoid', 0)).toBe(0);
    expect(activate(1, 'gelu', 0)).toBeCloseTo(0.8413447460685429, 6);
    expect(activate(-1, 'silu', 0)).toBeCloseTo(-1 / (1 + Math.E), 12);
  });

  it('applies batch norm (running statistics) and layer norm between the linear map and the activation', () => {
    // 2 inputs → 2 hidden (relu) → 1 output, by hand in float64.
    const base: [string, Float32Array][] = [
      ['fc1.weight', Float32Array.from([1, -1, 0.5, 2])],
      ['fc1.bias', Float32Array.from([0.1, -0.3])],
      ['fc2.weight', Float32Array.from([1, -2])],
      ['fc2.bias', Float32Array.from([0.25])],
    ];
    const gamma = Float32Array.from([1.5, 0.5]);
    const beta = Float32Array.from([-0.25, 0.5]);
    const pixels = [255, 51];
    const x = pixels.map((v) => v / 255);
    const z = [x[0] - x[1] + Math.fround(0.1), 0.5 * x[0] + 2 * x[1] + Math.fround(-0.3)]; // float32 biases
    const out = (h: number[]) => Math.max(0, h[0]) - 2 * Math.max(0, h[1]) + 0.25;
    const eps = 1e-5;

    const mean = Float32Array.from([0.5, -0.25]);
    const variance = Float32Array.from([0.25, 4]);
    const bn = MlpPredictor.fromWeights(new Map([...base, ['bn1.weight', gamma], ['bn1.bias', beta], ['bn1.running_mean', mean], ['bn1.running_var', variance]]));
    const bnHidden = z.map((v, f) => ((v - mean[f]) / Math.sqrt(variance[f] + eps)) * gamma[f] + beta[f]);
    expectValueClose(bn.logits(pixels)[0], out(bnHidden), FLOAT64, 'batch-norm logit');
    expect(bn.layers[0].norm?.kind).toBe('batch');

    const ln = MlpPredictor.fromWeights(new Map([...base, ['ln1.weight', gamma], ['ln1.bias', beta]]));
    const mu = (z[0] + z[1]) / 2;
    const rstd = 1 / Math.sqrt(((z[0] - mu) ** 2 + (z[1] - mu) ** 2) / 2 + eps);
    expectValueClose(ln.logits(pixels)[0], out(z.map((v, f) => (v - mu) * rstd * gamma[f] + beta[f])), FLOAT64, 'layer-norm logit');
  });

  it('refuses unknown parameters, incomplete or misplaced norms, and inconsistent shapes', () => {
    const fc = (): [string, Float32Array][] => [
      ['fc1.weight', new Float32Array(6)],
      ['fc1.bias', new Float32Array(2)],
      ['fc2.weight', new Float32Array(4)],
      ['fc2.bias', new Float32Array(2)],
    ];
    const two = new Float32Array(2);
    expect(() => MlpPredictor.fromWeights(new Map([...fc(), ['conv1.weight', two]]))).toThrow(UnsupportedModelError);
    expect(() => MlpPredictor.fromWeights(new Map([...fc(), ['conv1.weight', two]]))).toThrow(/conv1\.weight/);
    // Batch norm without its running statistics.
    expect(() => MlpPredictor.fromWeights(new Map([...fc(), ['bn1.weight', two], ['bn1.bias', two]]))).toThrow(/bn1\.running_mean/);
    expect(() => MlpPredictor.fromWeights(new Map([...fc(), ['ln1.weight', new Float32Array(3)], ['ln1.bias', two]]))).toThrow(/ln1\.weight/);
    expect(() => MlpPredictor.fromWeights(new Map([...fc(), ['ln2.weight', two], ['ln2.bias', two]]))).toThrow(/output layer/);
    expect(() => MlpPredictor.fromWeights(new Map([...fc(), ['ln5.weight', two], ['ln5.bias', two]]))).toThrow(/ln5\.weight belongs to no layer/);
    const broken = new Map([
      ['fc1.weight', new Float32Array(6)],
      ['fc1.bias', new Float32Array(2)],
      ['fc2.weight', new Float32Array(9)],
      ['fc2.bias', new Float32Array(3)],
    ]);
    expect(() => MlpPredictor.fromWeights(broken)).toThrow(/fc2\.weight/);
  });
});

describe('weights files', () => {
  const predictor = MlpPredictor.fromWeights(
    new Map([
      ['fc1.weight', Float32Array.from({ length: 784 * 4 }, (_, i) => Math.sin(i))],
      ['fc1.bias', Float32Array.from([0.1, 0.2, 0.3, 0.4])],
      ['fc2.weight', Float32Array.from({ length: 40 }, (_, i) => Math.cos(i))],
      ['fc2.bias', new Float32Array(10)],
    ]),
    { activation: 'elu', alpha: 0.5, normalisation: { mean: 0.13, std: 0.31 } },
  );
  const digit = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);

  it('round-trips through safetensors with the model and the normalisation', () => {
    const bytes = encodeWeights(predictor, { notes: { test_accuracy: '0.9500' } });
    const { predictor: back, metadata } = decodeWeights(bytes, 'model.safetensors');
    expect(metadata.test_accuracy).toBe('0.9500');
    expect(back.widths).toEqual([784, 4, 10]);
    expect(back.activation).toBe('elu');
    expect(back.alpha).toBe(0.5);
    expect(back.normalisation).toEqual({ mean: 0.13, std: 0.31 });
    expect(Array.from(back.predict(digit))).toEqual(Array.from(predictor.predict(digit)));
  });

  it('round-trips a model with batch norm and layer norm', () => {
    const vec = (k: number) => Float32Array.from({ length: 4 }, (_, i) => 0.5 + 0.1 * ((i + k) % 3));
    for (const prefix of ['bn1', 'ln1']) {
      const weights = new Map<string, Float32Array>([
        ['fc1.weight', predictor.layers[0].weight],
        ['fc1.bias', predictor.layers[0].bias],
        ['fc2.weight', predictor.layers[1].weight],
        ['fc2.bias', predictor.layers[1].bias],
        [`${prefix}.weight`, vec(0)],
        [`${prefix}.bias`, vec(1)],
      ]);
      if (prefix === 'bn1') weights.set('bn1.running_mean', vec(2)).set('bn1.running_var', vec(3));
      const normed = MlpPredictor.fromWeights(weights, { activation: 'elu', alpha: 0.5 });
      const { predictor: back } = decodeWeights(encodeWeights(normed), 'normed.safetensors');
      expect(back.layers[0].norm).toEqual(normed.layers[0].norm);
      expect(Array.from(back.predict(digit))).toEqual(Array.from(normed.predict(digit)));
      expect(Array.from(back.predict(digit))).not.toEqual(Array.from(predictor.predict(digit)));
    }
  });

  it('reads files from `train --save` and checkpoints (optimizer state ignored, pixels scaled to [0, 1])', () => {
    const tensors = predictor.layers.flatMap((l, i) => [
      { name: `fc${i + 1}.weight`, dtype: 'F32' as const, shape: [l.out, l.in], data: l.weight },
      { name: `fc${i + 1}.bias`, dtype: 'F32' as const, shape: [l.out], data: l.bias },
      { name: `optimizer.state1.fc${i + 1}.weight`, dtype: 'F32' as const, shape: [l.out, l.in], data: l.weight },
    ]);
    const bytes = encodeSafetensors(tensors, { format: 'pt', model: JSON.stringify({ layers: [784, 4, 10], activation: 'elu' }) });
    const { predictor: back } = decodeWeights(bytes, 'run.safetensors');
    expect(back.activation).toBe('elu');
    expect(back.alpha).toBe(1);
    expect(back.normalisation).toEqual({ mean: 0, std: 1 });
  });

  it('says what is wrong with a file that is not an MLP', () => {
    const bytes = encodeSafetensors([{ name: 'conv1.weight', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    expect(() => decodeWeights(bytes, 'conv.safetensors')).toThrow(/conv1\.weight/);
    expect(() => decodeWeights(new Uint8Array(3), 'tiny.safetensors')).toThrow(/tiny\.safetensors/);
  });
});

describe('CPU predictor vs the GPU trainer', () => {
  const cases = [
    { name: 'tanh MLP', layers: '784-32-10', activation: 'tanh' as const, normalisation: 'none' as const, dropout: 0 },
    // Batch norm's running statistics lag the weights after only 40 steps at lr 0.003: a larger step size.
    { name: 'relu + batch norm + dropout', layers: '784-32-16-10', activation: 'relu' as const, normalisation: 'batch' as const, dropout: 0.2, lr: 0.01 },
    { name: 'elu + layer norm', layers: '784-32-10', activation: 'elu' as const, normalisation: 'layer' as const, dropout: 0 },
  ];
  it.each(cases)('classifies the test set exactly as the trainer evaluated it: $name', { timeout: 120_000 }, async (c) => {
    const gpu = await requestGpu();
    const { train, test } = await loadMnist();
    const settings = { ...DEFAULTS, lr: 0.003, ...c, preprocessing: 'standardize' as const, batchSize: 50 };
    const trainSet = subset(train, 0, 2000);
    const testSet = subset(test, 0, 500);
    const normalisation = normalisationFor(settings, trainSet);
    expect(normalisation.mean).toBeGreaterThan(0.05);
    const trainer = await Trainer.create(gpu, trainSet, testSet, toTrainerOptions(settings, normalisation));
    try {
      await trainer.fit({ epochs: 1 });
      const { accuracy } = await trainer.evaluate('test');
      const probabilities = await trainer.predict(testSet.images);
      let correct = 0;
      for (let i = 0; i < testSet.count; i++) {
        const row = probabilities.subarray(i * 10, (i + 1) * 10);
        let best = 0;
        row.forEach((p, k) => (best = p > row[best] ? k : best));
        if (best === testSet.labels[i]) correct++;
      }
      console.log(`[demo] ${c.name}: GPU test accuracy ${accuracy.toFixed(4)}, predict ${(correct / testSet.count).toFixed(4)}`);
      expect(accuracy).toBeGreaterThan(0.7);
      // The same kernels on the same adapter: predict's argmax is evaluate's, sample for sample.
      expect(correct / testSet.count).toBe(accuracy);
    } finally {
      trainer.destroy();
    }
  });
});
