/**
 * The settings form: its selects filled from options.ts (features not built yet shown disabled, with why),
 * read back into checked DemoSettings, written from a saved run or the URL.
 */
import { ConfigError } from '../../src/index';
import { $ } from './dom';
import { ACTIVATIONS, AUGMENTATIONS, comingWith, DEFAULTS, FEATURES, INITIALISERS, missingNote, MODELS, modelOf, NORMALISATIONS, OPTIMIZERS, optimizerAvailable, PREPROCESSINGS, SCHEDULES, settingsFromUrl, type DemoSettings, type Feature } from './options';

export const form = $<HTMLFormElement>('settings');
export const field = <T extends HTMLInputElement | HTMLSelectElement>(name: keyof DemoSettings) => form.elements.namedItem(name) as T;

function fillSelect(name: keyof DemoSettings, values: readonly string[], unavailable: (value: string) => Feature | undefined = () => undefined): void {
  const select = field<HTMLSelectElement>(name);
  for (const value of values) {
    const option = new Option(value, value);
    const missing = unavailable(value);
    if (missing) {
      option.disabled = true;
      option.title = comingWith(missing);
      option.textContent = `${value} (${missingNote(missing)})`;
    }
    select.add(option);
  }
}

fillSelect('model', MODELS, (v) => (v === 'cnn' && !FEATURES.cnn.available ? FEATURES.cnn : undefined));
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

export function writeSettings(s: DemoSettings): void {
  for (const [key, value] of Object.entries(s)) {
    const control = field(key as keyof DemoSettings);
    if (control) control.value = String(value);
  }
}

export function readSettings(): DemoSettings {
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
  if (s.model === 'cnn' && !FEATURES.cnn.available) throw new ConfigError(`The CNN preset ${comingWith(FEATURES.cnn)}; choose the MLP.`);
  modelOf(s); // checks the MLP's widths
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) throw new ConfigError(`Batch size must be a positive integer; got ${s.batchSize}.`);
  if (!Number.isInteger(s.epochs) || s.epochs < 1) throw new ConfigError(`Epochs must be a positive integer; got ${s.epochs}.`);
  if (!(s.lr > 0)) throw new ConfigError(`The learning rate must be positive; got ${s.lr}.`);
  return s;
}

writeSettings(settingsFromUrl(location.search));
for (const label of Array.from(form.querySelectorAll<HTMLLabelElement>('label.unavailable'))) {
  const control = label.querySelector<HTMLInputElement>('input');
  if (control) control.value = String(DEFAULTS[control.name as keyof DemoSettings]);
}

/** How the page names the model of these settings. */
export const describe = (s: DemoSettings) => (s.model === 'cnn' ? 'the CNN' : `the ${s.layers} MLP`);
