/**
 * The prediction card: the drawn digit's class probabilities from the trainer in the worker
 * (`trainer.predict(bytes)`: the model in evaluation mode on the GPU, the input preprocessed there exactly
 * as in training), shown as ten bars.
 *
 * Drawing asks for a prediction at most once per animation frame, and at most one is in flight: when it
 * returns, the newest drawing is asked next. So a slow GPU, or one busy with an epoch (the worker runs a
 * trainer's calls one after another), shows the newest answer it has and never works through a backlog.
 * `data-pending` is "1" from the moment a prediction is wanted until its answer (or the reason there is
 * none) is shown: tests wait on it, and on `data-digit` / `data-probabilities`.
 */

export type Predict = (pixels: Uint8Array) => Promise<Float32Array>;

export interface Drawing {
  /** The 28×28 digit as MNIST bytes (0..255), centred like MNIST. */
  pixels: Uint8Array;
  empty: boolean;
}

const NO_MODEL = 'Train a model (or import weights), then draw.';

export class PredictionPanel {
  private predict: Predict | undefined;
  private message = NO_MODEL;
  private messageIsError = false;
  /** Bumped by every `use`: an answer from an older model is dropped. */
  private generation = 0;
  private frameQueued = false;
  private wanted = false;
  private running = false;
  private readonly rows: { bar: HTMLElement; fill: HTMLElement; value: HTMLElement }[];

  constructor(
    private readonly box: HTMLElement,
    private readonly text: HTMLElement,
    bars: HTMLElement,
    /** Reads the pad (and may draw the preview of what the model sees). */
    private readonly drawing: () => Drawing,
  ) {
    this.rows = Array.from({ length: 10 }, (_, digit) => {
      const label = document.createElement('span');
      label.textContent = String(digit);
      const bar = document.createElement('div');
      bar.className = 'bar';
      const fill = document.createElement('div');
      bar.append(fill);
      const value = document.createElement('span');
      value.className = 'pct';
      bars.append(label, bar, value);
      return { bar, fill, value };
    });
  }

  /**
   * The model to ask from now on, or none with the sentence to show instead (no model yet, one that failed).
   * Asks again at once: after every epoch the same drawing gets the new weights' answer.
   */
  use(predict: Predict | undefined, message = NO_MODEL, isError = false): void {
    this.predict = predict;
    this.message = message;
    this.messageIsError = isError;
    this.generation++;
    this.refresh();
  }

  /** The drawing (or the model) changed: predict again on the next animation frame. */
  refresh(): void {
    this.box.dataset.pending = '1';
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      this.wanted = true;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.wanted) {
        this.wanted = false;
        const { pixels, empty } = this.drawing();
        const predict = this.predict;
        if (!predict) this.showText(this.message, this.messageIsError);
        else if (empty) this.showText('Draw a digit in the black square.');
        else {
          const generation = this.generation;
          try {
            const probabilities = await predict(pixels);
            if (generation === this.generation) this.showBars(probabilities.subarray(0, 10));
          } catch (error) {
            if (generation === this.generation) this.showText(`Prediction failed: ${(error as Error).message}`, true);
          }
        }
      }
    } finally {
      this.running = false;
    }
    if (!this.frameQueued) this.box.dataset.pending = '';
  }

  private showText(text: string, isError = false): void {
    for (const row of this.rows) {
      row.fill.style.width = '0';
      row.value.textContent = '';
      row.bar.classList.remove('top');
    }
    this.text.textContent = text;
    this.text.classList.toggle('error', isError);
    this.box.dataset.digit = '';
    this.box.dataset.probabilities = '';
  }

  private showBars(probabilities: Float32Array): void {
    let best = 0;
    probabilities.forEach((p, i) => (best = p > probabilities[best] ? i : best));
    this.rows.forEach((row, i) => {
      row.fill.style.width = `${(100 * probabilities[i]).toFixed(1)}%`;
      row.value.textContent = `${(100 * probabilities[i]).toFixed(1)}%`;
      row.bar.classList.toggle('top', i === best);
    });
    this.text.classList.remove('error');
    this.text.innerHTML = `Prediction: <b>${best}</b> (${(100 * probabilities[best]).toFixed(1)}%)`;
    this.box.dataset.digit = String(best);
    this.box.dataset.probabilities = Array.from(probabilities, (p) => p.toFixed(4)).join(',');
  }
}
