/** Wall time spent training, excluding pauses; and a rolling samples/s over the last few seconds. */
export class Throughput {
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

/** "42 s", "3 min 5 s", "1 h 2 min"; "–" for no estimate. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
