/**
 * A run saved in the browser (IndexedDB, via webgrad's indexedDbStore): the trainer's checkpoint with the
 * demo's settings folded into its safetensors metadata, so the two are stored (and replaced) together in
 * one write. Restoring puts the settings back into the form, builds a trainer for them and loads the
 * checkpoint, which continues the run exactly (weights, buffers, optimizer state, counters, shuffling).
 * The engine's checkpoint reader ignores metadata it does not know.
 */
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor } from '../../src/index';
import { DEFAULTS, type DemoSettings } from './options';
import { normalisationJson, parseNormalisation, type Normalisation } from './weights_file';

/** The IndexedDB key of the saved run (one slot: saving replaces it). */
export const SAVED_RUN_KEY = 'demo-run';
const METADATA_KEY = 'webgrad_demo_run';

export interface SavedRun {
  settings: DemoSettings;
  /** The input normalisation the run trained with (the worker's info.normalisation). */
  normalisation: Normalisation;
  epoch: number;
  testAccuracy?: number;
  savedAt: string;
}

/** The checkpoint with `run` in its metadata. */
export function withRun(checkpoint: Uint8Array, run: SavedRun): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(checkpoint, 'checkpoint');
  const list: NamedSafetensorsTensor[] = [...tensors].map(([name, tensor]) => ({ name, ...tensor }));
  return encodeSafetensors(list, { ...metadata, [METADATA_KEY]: JSON.stringify({ ...run, normalisation: JSON.parse(normalisationJson(run.normalisation)) }) });
}

/** The run saved in a checkpoint's metadata, its settings completed from the defaults; undefined if there is none. */
export function runOf(bytes: Uint8Array, fileName: string): SavedRun | undefined {
  const { metadata } = decodeSafetensors(bytes, fileName);
  const text = metadata[METADATA_KEY];
  if (!text) return undefined;
  try {
    const run = JSON.parse(text) as SavedRun;
    const normalisation = parseNormalisation(run?.normalisation);
    if (typeof run !== 'object' || run === null || typeof run.settings !== 'object' || !normalisation) return undefined;
    return { ...run, normalisation, settings: { ...DEFAULTS, ...run.settings } };
  } catch {
    return undefined;
  }
}
