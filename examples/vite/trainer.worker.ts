// The worker: webgrad's trainer host. The GPU device, MNIST and the Trainer live here.
import { serveTrainer } from 'webgrad';

serveTrainer();
