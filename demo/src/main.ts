/**
 * The demo page: settings → a Trainer in a Web Worker (trainer.worker.ts; the page talks to it through
 * webgrad's TrainerProxy, so drawing, charts and buttons stay responsive while it trains), trained epoch
 * by epoch (so Pause and Stop act between epochs), live charts and progress, a drawing pad whose digit the
 * trainer classifies on the GPU (`predict` through the worker), first-layer weight images, the model's
 * layers, a GPU panel with per-kernel timings, the state dict as a safetensors download and upload, and a
 * checkpoint kept in IndexedDB. MNIST is fetched by the worker; the page never holds it. Plain TypeScript and DOM.
 */
import './style.css';
import {
  DeviceUnavailableError,
  indexedDbStore,
  TrainerWorker,
  WebgradError,
  type EpochReport,
  type TrainerProxy,
} from '../../src/index';
import { buildTrainer, testCount, trainCount, type StartFrom } from './build_trainer';
import { TrainingCharts } from './charts';
import { $, messageOf } from './dom';
import { describe, field, form, readSettings } from './settings_form';
import { showKernelTimes } from './kernel_table';
import { type DemoSettings } from './options';
import { showModel, showPreview, showWeights } from './model_view';
import { DrawPad } from './pad';
import { PredictionPanel } from './prediction_panel';
import { SAVED_RUN_KEY } from './saved_run';
import { duration, Throughput } from './throughput';
import { wireWeightsIo } from './weights_io';

const query = new URLSearchParams(location.search);

// ---------------------------------------------------------------------------------------------------------
// Status, progress and stats

const statusLine = $('status');
function status(text: string, kind: '' | 'error' | 'done' = ''): void {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`;
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);

const progressBar = document.querySelector<HTMLElement>('.progress')!;
function progress(fraction: number, text: string): void {
  const clamped = Math.max(0, Math.min(1, fraction));
  $('progress-fill').style.width = `${(100 * clamped).toFixed(1)}%`;
  $('progress-text').textContent = text;
  progressBar.setAttribute('aria-valuenow', (100 * clamped).toFixed(0));
}

// ---------------------------------------------------------------------------------------------------------
// The current model: prediction, weight images, layers

let pad: DrawPad | undefined;
const prediction = new PredictionPanel($('prediction'), $('prediction-text'), $('bars'), () => {
  const pixels = pad?.pixels() ?? new Uint8Array(784);
  showPreview(pixels);
  return { pixels, empty: pad?.isEmpty ?? true };
});
pad = new DrawPad($<HTMLCanvasElement>('pad'), () => prediction.refresh());
$('clear').addEventListener('click', () => pad?.clear());

/** The trainer the page shows (trained here, imported or restored), the settings it was built with, its last test accuracy. */
let trainer: TrainerProxy | undefined;
let trainerSettings: DemoSettings | undefined;
let trainerAccuracy: number | undefined;

/** Makes `t` the page's model: its layers, its predictions; the one it replaces is destroyed. */
async function adopt(t: TrainerProxy, settings: DemoSettings, accuracy?: number): Promise<void> {
  const previous = trainer;
  trainer = t;
  trainerSettings = settings;
  trainerAccuracy = accuracy;
  showModel(t);
  prediction.use((pixels) => t.predict(pixels));
  if (previous && previous !== t) await previous.destroy().catch(() => undefined);
}

async function dropTrainer(message: string): Promise<void> {
  const previous = trainer;
  trainer = undefined;
  trainerSettings = undefined;
  trainerAccuracy = undefined;
  showModel(undefined);
  prediction.use(undefined, message);
  await previous?.destroy();
}

// ---------------------------------------------------------------------------------------------------------
// GPU

/** The worker that trains and predicts (its GPU device requested there), once WebGPU is found. */
let gpu: TrainerWorker | undefined;
const badge = $('adapter-badge');
const store = indexedDbStore({ database: 'webgrad-demo' });
let hasSavedRun = false;

async function checkWebGpu(): Promise<void> {
  const show = (reason: string) => {
    $('no-webgpu').hidden = false;
    $('no-webgpu-reason').textContent = reason;
    badge.textContent = 'no WebGPU';
    badge.className = 'badge bad';
    $('gpu-adapter').textContent = 'none';
    status('Training needs WebGPU (see above).', 'error');
    prediction.use(undefined, 'Prediction runs on the GPU: it needs WebGPU too.');
  };
  if (!('gpu' in navigator) || !navigator.gpu) return show('This browser has no navigator.gpu.');
  try {
    gpu = await TrainerWorker.connect(new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module' }));
  } catch (error) {
    return show(error instanceof DeviceUnavailableError ? 'navigator.gpu exists, but no GPU adapter was granted (requestAdapter returned null).' : `requesting a GPU device failed: ${(error as Error).message}`);
  }
  const { adapterName, hasTimestamps, maxStorageBufferBindingSize } = gpu.gpu;
  badge.textContent = adapterName;
  badge.title = adapterName;
  badge.className = 'badge ok';
  $('gpu-adapter').textContent = adapterName;
  $('gpu-timestamps').textContent = hasTimestamps ? 'yes (timestamp-query, in the training worker)' : 'no: per-kernel times not available on this adapter';
  $('gpu-binding').textContent = `${(maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`;
  if (!hasTimestamps) $('kernel-times').innerHTML = '<p class="hint">Per-kernel GPU time: not available on this adapter (no timestamp-query feature).</p>';
  void gpu.lost.then((error) => {
    status(error.message, 'error');
    badge.textContent = 'GPU device lost';
    badge.className = 'badge bad';
    gpu = undefined;
    trainer = undefined;
    prediction.use(undefined, error.message, true);
    setState('error');
  });
  store.has(SAVED_RUN_KEY).then(
    (saved) => ((hasSavedRun = saved), setState(state)),
    () => undefined, // no IndexedDB (a private window may refuse it): Restore stays off
  );
  setState('idle');
}

// ---------------------------------------------------------------------------------------------------------
// Training

type State = 'starting' | 'idle' | 'preparing' | 'loading' | 'training' | 'pausing' | 'paused' | 'done' | 'error';
let state: State = 'starting';
let stopRequested = false;
let pauseRequested = false;
let profileRequested = false;
let resume: (() => void) | undefined;
let lastReport: EpochReport | undefined;

let startFrom: StartFrom | undefined;

const button = (id: string) => $<HTMLButtonElement>(id);
const trainButton = button('train');
const pauseButton = button('pause');
const stopButton = button('stop');
const profileButton = button('profile');

function setState(next: State): void {
  state = next;
  const running = next === 'preparing' || next === 'loading' || next === 'training' || next === 'pausing';
  const held = running || next === 'paused';
  trainButton.disabled = !gpu || held;
  pauseButton.disabled = !(next === 'training' || next === 'paused');
  pauseButton.textContent = next === 'paused' ? 'Resume' : next === 'pausing' ? 'Pausing…' : 'Pause';
  stopButton.disabled = !(next === 'training' || next === 'pausing' || next === 'paused');
  profileButton.disabled = !gpu?.gpu.hasTimestamps || !trainer || next === 'preparing' || next === 'loading';
  button('export').disabled = button('save-run').disabled = !trainer || running;
  button('import').disabled = !gpu || held;
  button('restore-run').disabled = !gpu || held || !hasSavedRun;
  button('from-scratch').disabled = held;
  // Settings are fixed while a run is under way (a paused run resumes with them); unavailable inputs stay
  // off, and the CNN preset's layers are fixed, so the MLP's own controls are off with it.
  const cnn = field('model').value === 'cnn';
  for (const control of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select'))) {
    const unavailable = control instanceof HTMLInputElement && !!control.closest('label.unavailable');
    control.disabled = unavailable || held || (cnn && !!control.closest('label[data-mlp]'));
  }
  document.body.dataset.state = next;
}
field('model').addEventListener('change', () => setState(state));

function showStartFrom(): void {
  const from = startFrom;
  $('start-from').textContent = !from
    ? 'Train starts from a fresh initialisation.'
    : from.kind === 'weights'
      ? `Train starts from the weights of ${from.name}.`
      : `Train continues ${from.name} (weights, optimizer state, epoch).`;
  button('from-scratch').hidden = !from;
}
button('from-scratch').addEventListener('click', () => ((startFrom = undefined), showStartFrom()));

/**
 * Per-dispatch GPU times of one training step (timestamp queries). profileStep trains a few real steps, so
 * the run's state is saved first and restored after: profiling leaves the weights exactly as they were.
 */
async function profileNow(t: TrainerProxy): Promise<void> {
  profileRequested = false;
  $('kernel-times').innerHTML = '<p class="hint">Profiling one training step…</p>';
  try {
    const saved = await t.checkpoint();
    try {
      showKernelTimes($('kernel-times'), await t.profileStep(5));
    } finally {
      await t.restore(saved);
    }
  } catch (error) {
    $('kernel-times').innerHTML = `<p class="hint">Per-kernel GPU time not available: ${(error as Error).message}</p>`;
  }
}

async function train(): Promise<void> {
  if (!gpu) return;
  let settings: DemoSettings;
  try {
    settings = readSettings();
  } catch (error) {
    status((error as Error).message, 'error');
    return;
  }
  stopRequested = pauseRequested = false;
  setState('preparing');
  const clock = new Throughput();
  const from = startFrom;
  try {
    const train = { count: trainCount(settings) };
    const test = { count: testCount(settings) };
    status(`Loading MNIST in the worker (55 MB, once per page), then building the training step${from ? ` from ${from.name}` : ''}: graph, fusion, plan, GPU pipelines…`);
    // The previous model goes first, so two trainers' buffers never need to fit at once.
    await dropTrainer('Building the model…');
    const warnings: string[] = [];
    const building = performance.now();
    const ticker = setInterval(() => progress(0, `building the training step… ${Math.round((performance.now() - building) / 1000)} s`), 1000);
    progress(0, 'building the training step…');
    let t: TrainerProxy;
    try {
      t = await buildTrainer(gpu, settings, from, warnings);
    } finally {
      clearInterval(ticker);
    }
    await adopt(t, settings);
    const firstEpoch = t.epoch; // a restored checkpoint continues where it was saved
    const steps = Math.ceil(train.count / Math.min(settings.batchSize, train.count));
    const reportEvery = Math.max(1, Math.round(steps / 40));
    const total = Math.max(0, settings.epochs - firstEpoch) * train.count;
    charts.reset(settings.epochs);
    const epochLosses: number[] = [];
    lastReport = undefined;
    for (const id of ['stat-epoch', 'stat-rate', 'stat-eta', 'stat-train-acc', 'stat-test-acc', 'stat-lr']) $(id).textContent = '–';
    $('stat-test-acc').dataset.value = '';
    await showWeights(t, from ? `from ${from.name}` : 'initial weights', () => t === trainer);
    if (total === 0) {
      status(`The checkpoint is at epoch ${firstEpoch} and Epochs is ${settings.epochs}: raise Epochs to train further.`, 'done');
      setState('done');
      return;
    }
    setState('training');
    status(`${warnings.join(' ')}${warnings.length ? '\n' : ''}Training ${describe(settings)} on ${train.count} samples, testing on ${test.count}${firstEpoch ? `, from epoch ${firstEpoch + 1}` : ''}.`);
    const showProgress = (samples: number, rate: number) => {
      const overall = samples / Math.max(clock.seconds, 1e-3);
      $('stat-rate').textContent = Number.isFinite(rate) && rate > 0 ? Math.round(rate).toLocaleString('en') : '–';
      $('stat-eta').textContent = samples > 0 ? duration((total - samples) / overall) : '–';
      progress(samples / total, `${Math.round((100 * samples) / total)}%  ·  ${samples.toLocaleString('en')} / ${total.toLocaleString('en')} samples`);
    };
    progress(0, `0 / ${total.toLocaleString('en')} samples`);

    for (let e = firstEpoch; e < settings.epochs; e++) {
      if (pauseRequested) {
        clock.pause();
        setState('paused');
        status(`Paused after epoch ${e}. Resume continues with epoch ${e + 1}; Stop ends the run (the model stays for drawing and export).`);
        await new Promise<void>((resolve) => (resume = resolve));
        resume = undefined;
        pauseRequested = false;
        if (!stopRequested) {
          setState('training');
          status(`Training resumed at epoch ${e + 1}.`);
        }
      }
      if (stopRequested) break;
      $('stat-epoch').textContent = `${e + 1} / ${settings.epochs}`;
      clock.start();
      const epochStart = (e - firstEpoch) * train.count;
      await t.fit({
        epochs: 1,
        reportEvery,
        onStep: (r) => {
          const samples = epochStart + Math.min(r.step * settings.batchSize, train.count);
          charts.addStep(e + r.step / steps, r.loss);
          showProgress(samples, clock.mark(samples));
        },
        onEpoch: (r) => {
          lastReport = r;
          trainerAccuracy = r.testAccuracy;
          charts.addEpoch({ ...r, epoch: e + 1 });
          epochLosses.push(r.loss);
          $('loss-chart').dataset.epochLosses = epochLosses.map((l) => l.toFixed(5)).join(',');
          $('stat-train-acc').textContent = pct(r.accuracy);
          $('stat-test-acc').textContent = pct(r.testAccuracy);
          $('stat-test-acc').dataset.value = String(r.testAccuracy ?? '');
          $('stat-lr').textContent = r.lr.toPrecision(3);
        },
      });
      showProgress(epochStart + train.count, clock.mark(epochStart + train.count));
      prediction.refresh(); // the same drawing, the new weights
      await showWeights(t, `after epoch ${e + 1}`, () => t === trainer);
      if (profileRequested) await profileNow(t);
    }
    clock.pause();
    const finished = !stopRequested;
    const final = lastReport as EpochReport | undefined; // set in onEpoch
    const summary = final ? `test accuracy ${pct(final.testAccuracy)} after ${final.epoch} epoch${final.epoch === 1 ? '' : 's'}` : 'no epoch finished';
    status(`${finished ? 'Done' : 'Stopped'}: ${summary}, ${duration(clock.seconds)}. Draw a digit →`, 'done');
    if (finished) $('stat-eta').textContent = '0 s';
    setState('done');
    if (profileRequested) await profileNow(t);
  } catch (error) {
    clock.pause();
    const message = error instanceof WebgradError ? messageOf(error) : String((error as Error)?.stack ?? error);
    status(message, 'error');
    console.warn(message);
    setState('error');
  }
}

trainButton.addEventListener('click', () => void train());

pauseButton.addEventListener('click', () => {
  if (state === 'paused') {
    resume?.();
  } else if (state === 'training') {
    pauseRequested = true;
    setState('pausing');
    status('Pausing after this epoch (the GPU finishes the steps already submitted)…');
  }
});

stopButton.addEventListener('click', () => {
  stopRequested = true;
  pauseRequested = false;
  if (state === 'paused') resume?.();
  else status('Stopping after this epoch…');
});

profileButton.addEventListener('click', () => {
  if (!trainer) return;
  if (state === 'training' || state === 'pausing') {
    profileRequested = true;
    $('kernel-times').innerHTML = '<p class="hint">Profiling after this epoch…</p>';
  } else {
    const t = trainer;
    // No new run (which would destroy this trainer) until profiling is over.
    profileButton.disabled = trainButton.disabled = true;
    void profileNow(t).then(() => setState(state));
  }
});

// ---------------------------------------------------------------------------------------------------------
// Weights files and the checkpoint in the browser (weights_io.ts)

wireWeightsIo({
  get gpu() {
    return gpu;
  },
  get current() {
    return trainer && trainerSettings ? { trainer, settings: trainerSettings, accuracy: trainerAccuracy } : undefined;
  },
  adopt,
  hold() {
    const before = state;
    setState('loading');
    return (succeeded) => setState(succeeded ? 'done' : before);
  },
  startFrom(from) {
    startFrom = from;
    showStartFrom();
  },
  runSaved() {
    hasSavedRun = true;
    setState(state);
  },
  store,
});

// ---------------------------------------------------------------------------------------------------------
// Start

const charts = new TrainingCharts($<HTMLCanvasElement>('loss-chart'), $<HTMLCanvasElement>('accuracy-chart'));
setState('starting');
prediction.use(undefined);
void checkWebGpu().then(() => {
  if (gpu && query.get('autostart') === '1') void train();
});
