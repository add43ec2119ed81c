// The TypeScript end of the builder's line protocol (topologies/README.md, "Builder protocol"):
// one child process running topologies/builder.py, requests written as JSON lines to its stdin,
// replies read as JSON lines from its stdout and matched by id, stderr passed to a logger.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** Debian's Python, where Mininet is installed (not the first python3 on PATH). */
export const PYTHON = '/usr/bin/python3';
export const BUILDER = join(dirname(fileURLToPath(import.meta.url)), 'builder.py');

export type Logger = (line: string) => void;

interface Pending {
  op: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** An error the builder answered with ({id, error}); the builder is still serving. */
export class BuilderError extends Error {
  override readonly name = 'BuilderError';
}

export class BuilderProcess {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly stderrTail: string[] = [];
  private exitInfo: string | null = null;
  /** Settles once the process has exited, however that happened. */
  readonly exited: Promise<string>;

  constructor(private readonly logger: Logger = () => {}) {
    // Own process group: a Ctrl-C in the terminal reaches only node, which then stops the
    // network in order. If node dies instead, the builder reads EOF and cleans up by itself.
    this.child = spawn(PYTHON, [BUILDER], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdin.on('error', () => {}); // EPIPE after a crash; reported through exit instead
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onReply(line));
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
      this.logger(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => this.onExit(`could not run ${PYTHON} ${BUILDER}: ${err.message}`, resolve));
      this.child.once('close', (code, signal) =>
        this.onExit(`builder exited (${signal === null ? `code ${code}` : `signal ${signal}`})`, resolve),
      );
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  /** Sends one request and resolves with its `result`, or rejects with the builder's `error`. */
  request<T>(op: string, fields: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (this.exitInfo !== null) return Promise.reject(new Error(`${op}: ${this.exitInfo}${this.tail()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`builder did not answer ${op} within ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      this.pending.set(id, { op, resolve: resolve as (r: unknown) => void, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  /** Signal the builder (SIGTERM makes it clean up and exit; SIGKILL leaves that to the next start). */
  signal(sig: NodeJS.Signals): void {
    if (this.exitInfo === null) this.child.kill(sig);
  }

  private onReply(line: string): void {
    let msg: { id?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.logger(`builder: unparsable reply: ${line}`);
      return;
    }
    const pending = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!pending) {
      this.logger(`builder: reply for no request: ${line}`);
      return;
    }
    this.pending.delete(msg.id as number);
    clearTimeout(pending.timer);
    if (typeof msg.error === 'string') pending.reject(new BuilderError(`${pending.op}: ${msg.error}`));
    else pending.resolve(msg.result);
  }

  private onExit(info: string, resolve: (info: string) => void): void {
    if (this.exitInfo !== null) return;
    this.exitInfo = info;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`${p.op}: ${info}${this.tail()}`));
      this.pending.delete(id);
    }
    resolve(info);
  }

  private tail(): string {
    return this.stderrTail.length ? `\n--- builder stderr (last lines) ---\n${this.stderrTail.join('\n')}` : '';
  }
}

/** Runs the builder once in sweep mode: removes what runs with a dead owner left behind. */
export function sweepStaleRuns(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [BUILDER, '--sweep'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`builder --sweep failed: ${err}`))));
  });
}
