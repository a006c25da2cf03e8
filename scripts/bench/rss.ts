/**
 * Samples the resident set size every 50 ms: the peak of the whole run and of the
 * current stage. A busy event loop samples late, never wrongly; the kernel's own
 * high-water mark (process.resourceUsage().maxRSS) cannot be reset per stage.
 */
export class RssSampler {
  private peak = 0;
  private stagePeak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  resetStage(): void {
    this.stagePeak = 0;
    this.sample();
  }

  stagePeakMb(): number {
    this.sample();
    return this.stagePeak / 2 ** 20;
  }

  peakMb(): number {
    this.sample();
    return this.peak / 2 ** 20;
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    this.peak = Math.max(this.peak, rss);
    this.stagePeak = Math.max(this.stagePeak, rss);
  }
}

/** CPU time (user + system) this process used since `start`. */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}
