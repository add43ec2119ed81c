// Progress while a lab runs: one status line on stderr (phase, elapsed, remaining, live p99)
// and the same as a `lab_progress` message on the controller's stream, for the dashboard.
import type { StreamHub } from '../controller/api/stream.ts';

export interface ProgressUpdate {
  readonly lab: string;
  readonly variant: string;
  readonly phase: string;
  readonly elapsedMs: number;
  readonly remainingMs: number;
  /** p99 of the last few seconds; undefined before the first answers. */
  readonly p99Ms?: number;
  readonly requests?: number;
}

export function formatProgress(u: ProgressUpdate): string {
  const s = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))}s`;
  const p99 = u.p99Ms === undefined ? '–' : `${Math.round(u.p99Ms)} ms`;
  return `${u.lab}/${u.variant} ${u.phase.padEnd(11)} ${s(u.elapsedMs)} elapsed, ${s(u.remainingMs)} left, p99 ${p99}${u.requests === undefined ? '' : `, ${u.requests} requests`}`;
}

export class ProgressLine {
  private lastPrint = 0;
  private dirty = false;

  constructor(
    private readonly hub: StreamHub | undefined,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(u: ProgressUpdate): void {
    this.hub?.publish({ kind: 'lab_progress', ts: Date.now(), ...u });
    const line = formatProgress(u);
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      this.dirty = true;
    } else if (Date.now() - this.lastPrint >= 5000) {
      // Logs and CI: a line every few seconds, not a flood of carriage returns.
      this.out.write(`${line}\n`);
      this.lastPrint = Date.now();
    }
  }

  /** A message on a line of its own (ends the status line first). */
  note(text: string): void {
    this.done();
    this.out.write(`${text}\n`);
  }

  done(): void {
    if (this.dirty) this.out.write('\n');
    this.dirty = false;
  }
}
