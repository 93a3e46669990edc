/**
 * The demo's training worker: webgrad's trainer host (src/worker/serve.ts). The page (main.ts) drives it
 * through TrainerWorker / TrainerProxy; the GPU device, MNIST and the Trainer all live here.
 */
import { serveTrainer } from '../../src/index';

serveTrainer();
