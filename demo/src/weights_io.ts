/**
 * The demo's weights files and the checkpoint kept in the browser: Export (the state dict as safetensors),
 * Import (a state dict loaded strictly into a new trainer for the form's model), Save run and Restore run
 * (a checkpoint with the demo's settings, in IndexedDB). Each import or restore builds a new trainer and
 * adopts it only when everything succeeded, so on failure the page's model stays as it was.
 */
import { DataFormatError, downloadBytes, readFileBytes, type ByteStore, type TrainerProxy, type TrainerWorker } from '../../src/index';
import { buildTrainer, testCount, type StartFrom } from './build_trainer';
import { $, messageOf } from './dom';
import { showWeights } from './model_view';
import { modelName, type DemoSettings } from './options';
import { runOf, SAVED_RUN_KEY, withRun } from './saved_run';
import { describe, readSettings, writeSettings } from './settings_form';
import { encodeWeights, readWeightsFile } from './weights_file';

/** What these buttons need of the page (src/main.ts). */
export interface DemoPage {
  /** The worker that trains and predicts, once WebGPU is found. */
  readonly gpu: TrainerWorker | undefined;
  /** The model the page shows, the settings it was built with and its last test accuracy. */
  readonly current: { trainer: TrainerProxy; settings: DemoSettings; accuracy?: number } | undefined;
  /** Makes `t` the page's model (the one it replaces is destroyed). */
  adopt(t: TrainerProxy, settings: DemoSettings, accuracy?: number): Promise<void>;
  /** Holds the buttons while loading; the returned function releases them (into 'done', or back as they were). */
  hold(): (succeeded: boolean) => void;
  /** The next Train starts from `from`. */
  startFrom(from: StartFrom): void;
  /** A run is now saved in the browser. */
  runSaved(): void;
  readonly store: ByteStore;
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
const button = (id: string) => $<HTMLButtonElement>(id);

export function wireWeightsIo(page: DemoPage): void {
  const ioStatus = $('io-status');

  /** Runs an import or restore: buttons held meanwhile; on failure the page's model stays as it was. */
  async function loading(what: string, body: () => Promise<string>): Promise<void> {
    const release = page.hold();
    ioStatus.textContent = `${what}…`;
    try {
      ioStatus.textContent = await body();
      release(true);
    } catch (error) {
      ioStatus.textContent = `Could not ${what.charAt(0).toLowerCase()}${what.slice(1)}: ${messageOf(error)}`;
      release(false);
    }
  }

  button('export').addEventListener('click', async () => {
    const current = page.current;
    if (!current) return;
    const { trainer: t, settings, accuracy } = current;
    try {
      const notes: Record<string, string> = { source: 'webgrad demo', epochs: String(t.epoch) };
      if (accuracy !== undefined) notes.test_accuracy = accuracy.toFixed(4);
      const bytes = encodeWeights(await t.stateDict(), { model: t.info.model, normalisation: t.info.normalisation, notes });
      const fileName = `mnist-${modelName(settings)}.safetensors`;
      downloadBytes(bytes, fileName);
      ioStatus.textContent = `Exported ${fileName} (${(bytes.length / 1024).toFixed(0)} KiB): the state dict of ${describe(settings)}.`;
    } catch (error) {
      ioStatus.textContent = `Export failed: ${messageOf(error)}`;
    }
  });

  const importInput = $<HTMLInputElement>('import-file');
  button('import').addEventListener('click', () => importInput.click());
  importInput.addEventListener('change', () => {
    const file = importInput.files?.[0];
    importInput.value = '';
    const gpu = page.gpu;
    if (!file || !gpu) return;
    if (button('import').disabled) {
      ioStatus.textContent = `Not now: wait for the run to end (or stop it), then import ${file.name}.`;
      return;
    }
    void loading(`Import ${file.name}`, async () => {
      const settings = readSettings();
      const bytes = await readFileBytes(file);
      const weights = readWeightsFile(bytes, file.name);
      const from: StartFrom = { kind: 'weights', name: file.name, bytes, normalisation: weights.normalisation };
      // A new trainer for the model setting, its weights loaded strictly; the current one stays if this fails.
      const t = await buildTrainer(gpu, settings, from);
      let accuracy: number;
      try {
        ({ accuracy } = await t.evaluate('test'));
      } catch (error) {
        await t.destroy();
        throw error;
      }
      await page.adopt(t, settings, accuracy);
      page.startFrom(from);
      await showWeights(t, `imported ${file.name}`, () => t === page.current?.trainer);
      const inputs = weights.normalisation ? '' : ' The file does not say how its inputs were normalised: the Inputs setting decides.';
      return `Imported ${file.name} (${weights.tensorCount} tensors) into ${describe(settings)}: test accuracy ${pct(accuracy)} on ${testCount(settings)} test samples.${inputs}`;
    });
  });

  button('save-run').addEventListener('click', () => {
    const current = page.current;
    if (!current) return;
    const { trainer: t, settings, accuracy } = current;
    void (async () => {
      try {
        const run = { settings, normalisation: t.info.normalisation, epoch: t.epoch, testAccuracy: accuracy, savedAt: new Date().toISOString() };
        const bytes = withRun(await t.checkpoint(), run);
        await page.store.save(SAVED_RUN_KEY, bytes);
        page.runSaved();
        ioStatus.textContent = `Saved the run at epoch ${run.epoch} in this browser (${page.store.location}, ${(bytes.length / 1024).toFixed(0)} KiB).`;
      } catch (error) {
        ioStatus.textContent = `Could not save the run: ${messageOf(error)}`;
      }
    })();
  });

  button('restore-run').addEventListener('click', () => {
    const gpu = page.gpu;
    if (!gpu) return;
    void loading('Restore the saved run', async () => {
      const bytes = await page.store.load(SAVED_RUN_KEY);
      const run = runOf(bytes, SAVED_RUN_KEY);
      if (!run) throw new DataFormatError(`${page.store.location} '${SAVED_RUN_KEY}' holds a checkpoint without the demo's settings; save the run again.`);
      writeSettings(run.settings);
      const from: StartFrom = { kind: 'checkpoint', name: `the run saved ${new Date(run.savedAt).toLocaleString('en')}`, bytes, normalisation: run.normalisation };
      const t = await buildTrainer(gpu, run.settings, from);
      await page.adopt(t, run.settings, run.testAccuracy);
      page.startFrom(from);
      await showWeights(t, `restored at epoch ${t.epoch}`, () => t === page.current?.trainer);
      return `Restored the run saved ${new Date(run.savedAt).toLocaleString('en')}: ${describe(run.settings)} at epoch ${t.epoch}, test accuracy ${pct(run.testAccuracy)}. The form shows its settings; Train continues it up to Epochs.`;
    });
  });
}
