/** Below this many reads a bar would only flicker. */
export const PROGRESS_THRESHOLD = 50;
const BAR_WIDTH = 30;
const REDRAW_MS = 80;

export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): boolean;
}

/**
 * A one-line progress bar on stderr, redrawn in place with `\r`. It stays silent when stderr is not a
 * terminal (logs and pipes get no carriage-return noise) and for small reads.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly now: () => number = Date.now,
  ) {}

  update(done: number, total: number): void {
    if (!this.stream.isTTY || total <= PROGRESS_THRESHOLD) return;
    const time = this.now();
    if (done < total && time - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = time;
    const filled = Math.round((done / total) * BAR_WIDTH);
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total}`,
    );
    this.drawn = true;
  }

  /** Erases the bar so the next output starts on a clean line. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
