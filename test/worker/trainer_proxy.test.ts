/**
 * The trainer proxy's protocol, in Node: serveTrainer on one end of a MessageChannel, TrainerWorker on the
 * other, so every call, event and error crosses by structured clone exactly as it does to a Web Worker.
 * The proxied trainer must give bitwise the same weights as a Trainer used directly on the same device.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset, type Dataset } from '../../src/data/dataset';
import { ConfigError, NonFiniteError } from '../../src/errors';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { serveTrainer } from '../../src/worker/serve';
import { TrainerWorker } from '../../src/worker/proxy';
import type { MessageEndpoint } from '../../src/worker/protocol';
import { mnistDir, startServer } from '../browser/serve';
import { testGpu } from '../helpers/gpu';

const options: TrainerOptions = {
  model: { layers: [784, 24, 10] },
  optimizer: { name: 'adam', lr: 2e-3 },
  batchSize: 64,
  seed: 3,
  autotune: false,
};

let mnist: Promise<{ train: Dataset; test: Dataset }> | undefined;
const data = () =>
  (mnist ??= loadMnist().then((m) => ({ train: subset(m.train, 0, 640), test: subset(m.test, 0, 200) })));

const ports: MessagePort[] = [];
async function connectedWorker(): Promise<TrainerWorker> {
  const { gpu } = await testGpu();
  const channel = new MessageChannel();
  ports.push(channel.port1, channel.port2);
  serveTrainer(channel.port1 as unknown as MessageEndpoint, { gpu });
  return TrainerWorker.connect(channel.port2 as unknown as MessageEndpoint);
}

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function expectSameWeights(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>): Promise<void> {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, values] of expected) expect(sameBits(actual.get(name)!, values), `${name} bitwise`).toBe(true);
}

afterAll(() => ports.forEach((port) => port.close()));

describe('trainer proxy over a MessageChannel (Node)', () => {
  it('fit streams epochs and steps, and weights, evaluate and epoch match a direct Trainer bitwise', async () => {
    const { resources } = await testGpu();
    const { train, test } = await data();
    const direct = await Trainer.create(resources, train, test, options);
    const directReports = await direct.fit({ epochs: 2 });
    const expected = await direct.weights();
    const expectedEval = await direct.evaluate();
    direct.destroy();

    const worker = await connectedWorker();
    expect(worker.gpu.adapterName).toBe((await testGpu()).gpu.adapterName);
    const proxy = await worker.createTrainer(train, test, options);
    expect(Object.fromEntries(proxy.info.parameters.map((p) => [p.name, p.shape]))).toEqual({ '1.weight': [24, 784], '1.bias': [24], '3.weight': [10, 24], '3.bias': [10] });
    expect(proxy.info.parameterCount).toBe(24 * 784 + 24 + 10 * 24 + 10);
    expect(proxy.info.normalisation).toEqual({ mean: 0, std: 1 });
    const events: string[] = [];
    const reports = await proxy.fit({
      epochs: 2,
      reportEvery: 5,
      onStep: (r) => events.push(`step ${r.epoch}.${r.step}`),
      onEpoch: (r) => events.push(`epoch ${r.epoch}`),
    });
    // 640 / 64 = 10 steps an epoch, a report every 5: two per epoch, each epoch's after its steps.
    expect(events).toEqual(['step 1.5', 'step 1.10', 'epoch 1', 'step 2.5', 'step 2.10', 'epoch 2']);
    expect(reports.map((r) => [r.epoch, r.loss, r.testAccuracy])).toEqual(directReports.map((r) => [r.epoch, r.loss, r.testAccuracy]));
    expect(proxy.epoch).toBe(2);
    await expectSameWeights(await proxy.weights(), expected);
    expect(await proxy.evaluate()).toEqual(expectedEval);
    expect(await proxy.call('epoch')).toBe(2);
    await proxy.destroy();
    await expect(proxy.evaluate()).rejects.toThrow(/does not exist in this worker/);
    await worker.close();
  });

  it('checkpoint and restore across trainers resume bitwise; onCheckpoint may be async and is awaited', async () => {
    const { train, test } = await data();
    const worker = await connectedWorker();
    const straight = await worker.createTrainer(train, test, options);
    await straight.fit({ epochs: 3, evaluate: false });
    const expected = await straight.weights();
    await straight.destroy();

    const first = await worker.createTrainer(train, test, options);
    const saved: { epoch: number; bytes: Uint8Array }[] = [];
    await first.fit({
      epochs: 2,
      evaluate: false,
      checkpointEvery: 1,
      onCheckpoint: async (bytes, epoch) => {
        await new Promise((r) => setTimeout(r, 20));
        saved.push({ epoch, bytes });
      },
    });
    expect(saved.map((s) => s.epoch)).toEqual([1, 2]);
    const direct = await first.checkpoint();
    expect(Buffer.from(direct).equals(Buffer.from(saved[1].bytes))).toBe(true);
    await first.destroy();

    const resumed = await worker.createTrainer(train, test, { ...options, seed: 999 });
    await resumed.restore(saved[1].bytes);
    expect(resumed.epoch).toBe(2);
    expect(saved[1].bytes.byteLength).toBeGreaterThan(0); // restore copies; the page keeps its bytes
    const reports = await resumed.fit({ epochs: 1, evaluate: false });
    expect(reports.map((r) => r.epoch)).toEqual([3]);
    await expectSameWeights(await resumed.weights(), expected);
    await worker.close();
  });

  it('stop() and an AbortSignal end fit at the next epoch boundary; a throwing callback stops and rejects', async () => {
    const { train } = await data();
    const worker = await connectedWorker();
    const proxy = await worker.createTrainer(train, undefined, options);
    let stopped = 0;
    const reports = await proxy.fit({ epochs: 20, evaluate: false, onEpoch: () => void (stopped++ === 0 && proxy.stop()) });
    // Epoch e+1 is submitted before e's report arrives, so the stop lands after epoch 2 or 3 at the latest.
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.length).toBeLessThanOrEqual(4);

    const controller = new AbortController();
    controller.abort();
    expect(await proxy.fit({ epochs: 5, signal: controller.signal })).toEqual([]);

    const failing = proxy.fit({ epochs: 20, evaluate: false, onEpoch: () => {
      throw new RangeError('page-side handler failed');
    } });
    await expect(failing).rejects.toThrow(RangeError);
    expect(proxy.epoch).toBeLessThan(reports.length + 8);
    await worker.close();
  });

  it('errors cross as webgrad error classes with the worker stack; unclonable options are refused by name', async () => {
    const { train } = await data();
    const worker = await connectedWorker();
    const proxy = await worker.createTrainer(train, undefined, options);
    const bad = await proxy.fit({ epochs: -1 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toMatch(/epochs must be a non-negative integer/);
    expect((bad as Error).stack).toMatch(/in the trainer worker/);
    await expect(proxy.call('_private')).rejects.toThrow(ConfigError);
    await expect(proxy.call('noSuchMethod')).rejects.toThrow(/Trainer has no 'noSuchMethod'/);

    // predict: forwarded by name. Until the Trainer has it, the worker says so; once it has, it answers.
    if (typeof (Trainer.prototype as unknown as { predict?: unknown }).predict === 'function') {
      expect(await proxy.predict(train.x.slice(0, 784))).toBeDefined();
    } else {
      await expect(proxy.predict(train.x.slice(0, 784))).rejects.toThrow(/Trainer has no 'predict'/);
    }

    await expect(worker.createTrainer(train, undefined, { ...options, autotune: { store: { load: () => ({}), save: () => {} } } as never })).rejects.toThrow(
      /cannot be sent to the worker.*plain data/,
    );
    const diverging = await worker.createTrainer(train, undefined, { ...options, optimizer: { name: 'sgd', lr: 1e9 } });
    const nan = await diverging.fit({ epochs: 3, evaluate: false }).catch((e: unknown) => e);
    expect(nan).toBeInstanceOf(NonFiniteError);
    expect((nan as NonFiniteError).epoch).toBeGreaterThanOrEqual(1);
    await worker.close();
  });

  it('loads MNIST by URL inside the worker, once per URL, and forwards warnings as events', async () => {
    const server = await startServer({ '/mnist': mnistDir });
    const realFetch = globalThis.fetch;
    const fetched: string[] = [];
    // The "worker" shares this process, so its fetches can be counted here.
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => (fetched.push(String(input)), realFetch(input, init))) as typeof fetch;
    try {
      const worker = await connectedWorker();
      const url = `${server.origin}/mnist/`;
      const standardized: TrainerOptions = { ...options, preprocessing: 'standardize' };
      const proxy = await worker.createTrainer({ mnist: url, split: 'train', start: 100, count: 640 }, { mnist: url, split: 'test', count: 200 }, standardized);
      expect(fetched).toHaveLength(4);
      const { test } = await data();
      const direct = await Trainer.create((await testGpu()).resources, subset((await loadMnist()).train, 100, 640), test, standardized);
      const [remote, local] = [await proxy.fit({ epochs: 1 }), await direct.fit({ epochs: 1 })];
      expect(remote[0].loss).toBe(local[0].loss);
      expect(remote[0].testAccuracy).toBe(local[0].testAccuracy);
      await expectSameWeights(await proxy.weights(), await direct.weights());
      direct.destroy();
      // The per-pixel statistics training used, for a predictor on the page: MNIST's mean pixel is about 0.13.
      const means = proxy.info.normalisation.mean as Float32Array;
      expect(means).toHaveLength(784);
      const overall = means.reduce((a, b) => a + b, 0) / means.length;
      expect(overall).toBeGreaterThan(0.1);
      expect(overall).toBeLessThan(0.16);

      const warnings: string[] = [];
      const again = await worker.createTrainer({ mnist: url, split: 'train', count: 64 }, undefined, { ...options, model: { layers: [784, 24, 10], init: 'zeros' }, warn: (m) => warnings.push(m) });
      expect(fetched).toHaveLength(4); // the worker keeps what it fetched, per URL
      expect(warnings.join(' ')).toMatch(/symmetry is not broken/);
      await again.destroy();
      await worker.close();
      expect(server.misses).toEqual([]);
    } finally {
      globalThis.fetch = realFetch;
      await server.close();
    }
  });
});
