/**
 * The demo page: settings → a Trainer in a Web Worker (trainer.worker.ts; the page talks to it through
 * webgrad's TrainerProxy, so drawing, charts and buttons stay responsive while it trains), trained epoch
 * by epoch (so Pause and Stop act between epochs), live charts and progress, a drawing pad with CPU
 * prediction, first-layer weight images, a GPU panel with per-kernel timings, and safetensors
 * export/import. MNIST is fetched by the worker; the page never holds it. Plain TypeScript and DOM.
 */
import './style.css';
import {
  ConfigError,
  DeviceUnavailableError,
  downloadBytes,
  readFileBytes,
  TrainerWorker,
  WebgradError,
  type ActivationName,
  type EpochReport,
  type KernelTiming,
  type MnistSource,
  type TrainerProxy,
} from '../../src/index';
import { TrainingCharts } from './charts';
import {
  ACTIVATIONS,
  AUGMENTATIONS,
  comingWith,
  DEFAULTS,
  FEATURES,
  INITIALISERS,
  NORMALISATIONS,
  OPTIMIZERS,
  optimizerAvailable,
  parseLayers,
  PREPROCESSINGS,
  SCHEDULES,
  settingsFromUrl,
  toTrainerOptions,
  type DemoSettings,
  type Feature,
} from './options';
import { DrawPad } from './pad';
import { MlpPredictor, UnsupportedModelError } from './predict';
import { drawFirstLayer } from './weight_images';
import { decodeWeights, encodeWeights } from './weights_file';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
};

// ---------------------------------------------------------------------------------------------------------
// Settings form

const form = $<HTMLFormElement>('settings');
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: keyof DemoSettings) => form.elements.namedItem(name) as T;

function fillSelect(name: keyof DemoSettings, values: readonly string[], unavailable: (value: string) => Feature | undefined = () => undefined): void {
  const select = field<HTMLSelectElement>(name);
  for (const value of values) {
    const option = new Option(value, value);
    const missing = unavailable(value);
    if (missing) {
      option.disabled = true;
      option.title = comingWith(missing);
      option.textContent = `${value} (issue ${missing.issue})`;
    }
    select.add(option);
  }
}

fillSelect('activation', ACTIVATIONS);
fillSelect('init', INITIALISERS);
fillSelect('normalisation', NORMALISATIONS, (v) => (v !== 'none' && !FEATURES.normalisation.available ? FEATURES.normalisation : undefined));
fillSelect('optimizer', OPTIMIZERS, (v) => (optimizerAvailable(v) ? undefined : FEATURES.optimizers));
fillSelect('schedule', SCHEDULES, (v) => (v !== 'constant' && !FEATURES.schedules.available ? FEATURES.schedules : undefined));
fillSelect('augmentation', AUGMENTATIONS, (v) => (v !== 'none' && !FEATURES.augmentation.available ? FEATURES.augmentation : undefined));
fillSelect('preprocessing', PREPROCESSINGS);

// Controls whose whole feature is missing: disabled, with the tooltip on the label (disabled inputs get no hover).
for (const label of Array.from(form.querySelectorAll<HTMLLabelElement>('label[data-feature]'))) {
  const feature = FEATURES[label.dataset.feature as keyof typeof FEATURES];
  const control = label.querySelector<HTMLInputElement | HTMLSelectElement>('input, select');
  if (!feature || feature.available || !control) continue;
  // A select keeps its enabled first option (none/constant) usable; a number input is switched off.
  if (control instanceof HTMLInputElement) control.disabled = true;
  label.classList.add('unavailable');
  label.title = comingWith(feature);
}

function writeSettings(s: DemoSettings): void {
  for (const [key, value] of Object.entries(s)) {
    const control = field(key as keyof DemoSettings);
    if (control) control.value = String(value);
  }
}

function readSettings(): DemoSettings {
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    const control = field(key as keyof DemoSettings);
    const raw = control?.value ?? String(fallback);
    if (typeof fallback === 'number') {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`${control?.parentElement?.firstChild?.textContent?.trim() ?? key}: "${raw}" is not a number.`);
      out[key] = value;
    } else out[key] = raw;
  }
  const s = out as unknown as DemoSettings;
  parseLayers(s.layers);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) throw new ConfigError(`Batch size must be a positive integer; got ${s.batchSize}.`);
  if (!Number.isInteger(s.epochs) || s.epochs < 1) throw new ConfigError(`Epochs must be a positive integer; got ${s.epochs}.`);
  if (!(s.lr > 0)) throw new ConfigError(`The learning rate must be positive; got ${s.lr}.`);
  return s;
}

const query = new URLSearchParams(location.search);
writeSettings(settingsFromUrl(location.search));
for (const label of Array.from(form.querySelectorAll<HTMLLabelElement>('label.unavailable'))) {
  const control = label.querySelector<HTMLInputElement>('input');
  if (control) control.value = String(DEFAULTS[control.name as keyof DemoSettings]);
}

// ---------------------------------------------------------------------------------------------------------
// Status, progress and stats

const statusLine = $('status');
function status(text: string, kind: '' | 'error' | 'done' = ''): void {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`;
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const progressBar = document.querySelector<HTMLElement>('.progress')!;
function progress(fraction: number, text: string): void {
  const clamped = Math.max(0, Math.min(1, fraction));
  $('progress-fill').style.width = `${(100 * clamped).toFixed(1)}%`;
  $('progress-text').textContent = text;
  progressBar.setAttribute('aria-valuenow', (100 * clamped).toFixed(0));
}

/** Wall time spent training, excluding pauses; and a rolling samples/s over the last few seconds. */
class Throughput {
  private activeMs = 0;
  private since: number | undefined;
  private readonly window: { t: number; samples: number }[] = [];

  start(): void {
    this.since ??= performance.now();
  }
  pause(): void {
    if (this.since !== undefined) this.activeMs += performance.now() - this.since;
    this.since = undefined;
    this.window.length = 0;
  }
  get seconds(): number {
    return (this.activeMs + (this.since !== undefined ? performance.now() - this.since : 0)) / 1000;
  }
  /** Record the total samples done so far; returns the recent rate (samples/s) or NaN. */
  mark(samples: number): number {
    const t = performance.now();
    this.window.push({ t, samples });
    while (this.window.length > 2 && t - this.window[0].t > 4000) this.window.shift();
    const first = this.window[0];
    return t > first.t ? ((samples - first.samples) * 1000) / (t - first.t) : NaN;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Prediction and weight images

const preview = $<HTMLCanvasElement>('preview');
const barsBox = $('bars');
const predictionBox = $('prediction');
const predictionText = $('prediction-text');
let predictor: MlpPredictor | undefined;
let predictorProblem: string | undefined;

const barRows = Array.from({ length: 10 }, (_, digit) => {
  const label = document.createElement('span');
  label.textContent = String(digit);
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('div');
  bar.append(fill);
  const value = document.createElement('span');
  value.className = 'pct';
  value.textContent = '';
  barsBox.append(label, bar, value);
  return { bar, fill, value };
});

let predictionQueued = false;
const pad = new DrawPad($<HTMLCanvasElement>('pad'), () => schedulePrediction());
function schedulePrediction(): void {
  if (predictionQueued) return;
  predictionQueued = true;
  requestAnimationFrame(() => {
    predictionQueued = false;
    updatePrediction();
  });
}

function showPreview(pixels: Uint8Array): void {
  const ctx = preview.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(28, 28);
  pixels.forEach((v, i) => {
    image.data.set([v, v, v, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
}

function updatePrediction(): void {
  const pixels = pad.pixels();
  showPreview(pixels);
  const clearBars = () => barRows.forEach((r) => ((r.fill.style.width = '0'), (r.value.textContent = ''), r.bar.classList.remove('top')));
  predictionText.classList.remove('error');
  if (predictorProblem) {
    clearBars();
    predictionText.textContent = predictorProblem;
    predictionText.classList.add('error');
    predictionBox.dataset.digit = '';
    return;
  }
  if (!predictor) {
    clearBars();
    predictionText.textContent = 'Train a model (or import weights), then draw.';
    predictionBox.dataset.digit = '';
    return;
  }
  if (pad.isEmpty) {
    clearBars();
    predictionText.textContent = 'Draw a digit in the black square.';
    predictionBox.dataset.digit = '';
    return;
  }
  const probabilities = predictor.predict(pixels);
  let best = 0;
  probabilities.forEach((p, i) => (best = p > probabilities[best] ? i : best));
  barRows.forEach((row, i) => {
    row.fill.style.width = `${(100 * probabilities[i]).toFixed(1)}%`;
    row.value.textContent = `${(100 * probabilities[i]).toFixed(1)}%`;
    row.bar.classList.toggle('top', i === best);
  });
  predictionText.innerHTML = `Prediction: <b>${best}</b> (${(100 * probabilities[best]).toFixed(1)}%)`;
  predictionBox.dataset.digit = String(best);
  predictionBox.dataset.probabilities = Array.from(probabilities, (p) => p.toFixed(4)).join(',');
}

$('clear').addEventListener('click', () => pad.clear());

const weightsCanvas = $<HTMLCanvasElement>('weights');
function showWeights(p: MlpPredictor | undefined, note: string): void {
  const first = p?.layers[0];
  const tiles = first ? drawFirstLayer(weightsCanvas, first.weight, first.out, first.in, 32) : 0;
  $('weights-note').textContent = tiles ? `${note}: ${tiles} of ${first!.out} units of fc1.` : note;
}

/** Installs a predictor (from the trainer or a file); a model the CPU predictor can't run shows why. */
function usePredictor(make: () => MlpPredictor, note: string): void {
  try {
    predictor = make();
    predictorProblem = undefined;
    showWeights(predictor, note);
  } catch (error) {
    predictor = undefined;
    predictorProblem = error instanceof UnsupportedModelError ? error.message : `Prediction unavailable: ${(error as Error).message}`;
    showWeights(undefined, '');
  }
  ($('export') as HTMLButtonElement).disabled = !predictor;
  schedulePrediction();
}

// ---------------------------------------------------------------------------------------------------------
// GPU

/** The worker that trains (its GPU device requested there), once WebGPU is found. */
let gpu: TrainerWorker | undefined;
const badge = $('adapter-badge');

async function checkWebGpu(): Promise<void> {
  const show = (reason: string) => {
    $('no-webgpu').hidden = false;
    $('no-webgpu-reason').textContent = reason;
    badge.textContent = 'no WebGPU';
    badge.className = 'badge bad';
    $('gpu-adapter').textContent = 'none';
    status('Training needs WebGPU (see above).', 'error');
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
    setState('error');
  });
  setState('idle');
}

/** Creates an element with a class and text. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

function showKernelTimes(timings: KernelTiming[]): void {
  const total = timings.reduce((s, t) => s + t.milliseconds, 0);
  const max = Math.max(...timings.map((t) => t.milliseconds), 1e-9);
  const body = el('tbody');
  for (const t of timings) {
    const row = el('tr');
    const name = el('td', 'name', t.label);
    name.title = `kernel ${t.kernel}`;
    const barCell = el('td', 'barcell');
    const bar = el('div', 'kbar');
    bar.style.width = `${((100 * t.milliseconds) / max).toFixed(1)}%`;
    barCell.append(bar);
    row.append(name, barCell, el('td', 'ms', `${t.milliseconds.toFixed(3)} ms`));
    body.append(row);
  }
  const foot = el('tfoot');
  const sum = el('tr');
  sum.append(el('td', '', 'one training step'), el('td'), el('td', 'ms', `${total.toFixed(3)} ms`));
  foot.append(sum);
  const table = el('table');
  table.append(body, foot);
  const box = $('kernel-times');
  box.replaceChildren(table);
  box.dataset.count = String(timings.length);
}

// ---------------------------------------------------------------------------------------------------------
// Training

type State = 'starting' | 'idle' | 'preparing' | 'training' | 'pausing' | 'paused' | 'done' | 'error';
let state: State = 'starting';
let trainer: TrainerProxy | undefined;
let stopRequested = false;
let pauseRequested = false;
let profileRequested = false;
let resume: (() => void) | undefined;
let lastReport: EpochReport | undefined;

const trainButton = $<HTMLButtonElement>('train');
const pauseButton = $<HTMLButtonElement>('pause');
const stopButton = $<HTMLButtonElement>('stop');
const profileButton = $<HTMLButtonElement>('profile');

function setState(next: State): void {
  state = next;
  const running = next === 'preparing' || next === 'training' || next === 'pausing';
  trainButton.disabled = !gpu || running || next === 'paused';
  pauseButton.disabled = !(next === 'training' || next === 'paused');
  pauseButton.textContent = next === 'paused' ? 'Resume' : next === 'pausing' ? 'Pausing…' : 'Pause';
  stopButton.disabled = !(next === 'training' || next === 'pausing' || next === 'paused');
  profileButton.disabled = !gpu?.gpu.hasTimestamps || !trainer || next === 'preparing';
  // Settings are fixed while a run is under way (a paused run resumes with them); unavailable inputs stay off.
  for (const control of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select'))) {
    const unavailable = control instanceof HTMLInputElement && !!control.closest('label.unavailable');
    control.disabled = unavailable || running || next === 'paused';
  }
  document.body.dataset.state = next;
}

/** MNIST's sizes: the worker fetches the files, so the page clamps the subsets without holding the data. */
const MNIST_TRAIN = 60_000;
const MNIST_TEST = 10_000;

/**
 * The first `count` samples of a split, fetched by the worker (once per page). The URL is resolved here,
 * relative to the page, so the static build works from any folder; the dev server and the build serve it.
 */
function mnistSource(split: 'train' | 'test', count: number): MnistSource {
  return { mnist: new URL('mnist/', location.href).href, split, count };
}

async function refreshFromTrainer(t: TrainerProxy, activation: MlpPredictor['activation'], alpha: number, normalisation: { mean: number; std: number }, note: string): Promise<void> {
  const weights = await t.weights();
  usePredictor(() => MlpPredictor.fromWeights(weights, { activation, alpha, normalisation }), note);
}

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
      showKernelTimes(await t.profileStep(5));
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
  try {
    const train = { count: Math.min(Math.max(1, Math.floor(settings.subset)), MNIST_TRAIN) };
    const test = { count: Math.min(Math.max(1, Math.floor(settings.testSubset)), MNIST_TEST) };
    const options = toTrainerOptions(settings);
    status('Loading MNIST in the worker (55 MB, once per page), then building the training step: graph, fusion, plan, GPU pipelines…');
    const previous = trainer;
    trainer = undefined;
    await previous?.destroy();
    const warnings: string[] = [];
    const building = performance.now();
    const ticker = setInterval(() => progress(0, `building the training step… ${Math.round((performance.now() - building) / 1000)} s`), 1000);
    progress(0, 'building the training step…');
    let t: TrainerProxy;
    try {
      t = await gpu.createTrainer(mnistSource('train', train.count), mnistSource('test', test.count), { ...options, warn: (message) => warnings.push(message) });
    } finally {
      clearInterval(ticker);
    }
    trainer = t;
    // The model and input statistics as the worker's trainer resolved them, for the CPU predictor here.
    const { activation, alpha } = t.info.model as { activation: ActivationName; alpha: number };
    const normalisation = t.info.normalisation;
    const steps = Math.ceil(train.count / Math.min(settings.batchSize, train.count));
    const reportEvery = Math.max(1, Math.round(steps / 40));
    const total = settings.epochs * train.count;
    charts.reset(settings.epochs);
    const epochLosses: number[] = [];
    lastReport = undefined;
    for (const id of ['stat-epoch', 'stat-rate', 'stat-eta', 'stat-train-acc', 'stat-test-acc', 'stat-lr']) $(id).textContent = '–';
    $('stat-test-acc').dataset.value = '';
    await refreshFromTrainer(t, activation, alpha, normalisation, 'initial weights');
    setState('training');
    status(`${warnings.join(' ')}${warnings.length ? '\n' : ''}Training ${settings.layers} on ${train.count} samples, testing on ${test.count}.`);
    const showProgress = (samples: number, rate: number) => {
      const overall = samples / Math.max(clock.seconds, 1e-3);
      $('stat-rate').textContent = Number.isFinite(rate) && rate > 0 ? Math.round(rate).toLocaleString('en') : '–';
      $('stat-eta').textContent = samples > 0 ? duration((total - samples) / overall) : '–';
      progress(samples / total, `${Math.round((100 * samples) / total)}%  ·  ${samples.toLocaleString('en')} / ${total.toLocaleString('en')} samples`);
    };
    progress(0, `0 / ${total.toLocaleString('en')} samples`);

    for (let e = 0; e < settings.epochs; e++) {
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
      const epochStart = e * train.count;
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
          charts.addEpoch({ ...r, epoch: e + 1 });
          epochLosses.push(r.loss);
          $('loss-chart').dataset.epochLosses = epochLosses.map((l) => l.toFixed(5)).join(',');
          $('stat-train-acc').textContent = pct(r.accuracy);
          $('stat-test-acc').textContent = pct(r.testAccuracy);
          $('stat-test-acc').dataset.value = String(r.testAccuracy ?? '');
          $('stat-lr').textContent = r.lr.toPrecision(3);
        },
      });
      showProgress((e + 1) * train.count, clock.mark((e + 1) * train.count));
      await refreshFromTrainer(t, activation, alpha, normalisation, `after epoch ${e + 1}`);
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
    const message = error instanceof WebgradError ? `${error.name}: ${error.message}` : String((error as Error)?.stack ?? error);
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
// Export / import

const ioStatus = $('io-status');

$('export').addEventListener('click', () => {
  if (!predictor) return;
  const notes: Record<string, string> = { source: 'webgrad demo' };
  if (lastReport?.testAccuracy !== undefined) notes.test_accuracy = lastReport.testAccuracy.toFixed(4);
  if (lastReport) notes.epochs = String(lastReport.epoch);
  const bytes = encodeWeights(predictor, { notes });
  const fileName = `mnist-${predictor.widths.join('-')}.safetensors`;
  downloadBytes(bytes, fileName);
  ioStatus.textContent = `Exported ${fileName} (${(bytes.length / 1024).toFixed(0)} KiB).`;
});

$<HTMLInputElement>('import-file').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  try {
    const { predictor: imported, metadata } = decodeWeights(await readFileBytes(file), file.name);
    usePredictor(() => imported, `imported ${file.name}`);
    const accuracy = metadata.test_accuracy ? `, test accuracy ${pct(Number(metadata.test_accuracy))} when exported` : '';
    ioStatus.textContent =
      `Imported ${file.name}: ${imported.widths.join('-')} ${imported.activation}${accuracy}. ` +
      `It drives the prediction and the weight images; loading weights into the GPU trainer isn't possible yet, so Train starts from a fresh initialisation.`;
  } catch (error) {
    ioStatus.textContent = `Could not import ${file.name}: ${(error as Error).message}`;
  }
});

// ---------------------------------------------------------------------------------------------------------
// Start

const charts = new TrainingCharts($<HTMLCanvasElement>('loss-chart'), $<HTMLCanvasElement>('accuracy-chart'));
setState('starting');
void checkWebGpu().then(() => {
  if (gpu && query.get('autostart') === '1') void train();
});
