/**
 * Submits command buffers with a bound on how many are in flight: before a submit beyond `maxInFlight`,
 * the oldest is awaited. That keeps the host from running arbitrarily far ahead of the GPU (and the
 * queue's memory bounded) while the GPU always has the next submit waiting. It also counts submits, which
 * is what tests of "K steps per submit" check.
 */
export class SubmitQueue {
  private readonly inFlight: Promise<unknown>[] = [];
  submits = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxInFlight = 2,
  ) {}

  async submit(encoder: GPUCommandEncoder): Promise<void> {
    while (this.inFlight.length >= this.maxInFlight) await this.inFlight.shift();
    this.device.queue.submit([encoder.finish()]);
    this.submits++;
    this.inFlight.push(this.device.queue.onSubmittedWorkDone());
  }

  /** Resolves when everything submitted so far has run. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
  }
}
