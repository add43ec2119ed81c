// Small helpers for the bus tests: waiting on conditions and running mosquitto_sub.
import { spawn } from 'node:child_process';

/** Polls until cond() is true; fails after timeoutMs with the message. */
export async function until(cond: () => boolean, message: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SubProcess {
  /** Resolves with [topic, payload] lines once mosquitto_sub has exited after -C n messages. */
  readonly done: Promise<Array<[string, string]>>;
  /** Resolves when mosquitto_sub printed its first message (so it is subscribed). */
  readonly firstLine: Promise<void>;
  readonly pid: number;
  kill(): void;
}

/**
 * The real mosquitto_sub, `-v -C n`: `done` resolves after it has received n messages. It prints
 * nothing when subscribed, so tests publish a retained message first and wait for `firstLine`.
 */
export function mosquittoSub(port: number, topicFilters: readonly string[], count: number): SubProcess {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-v', '-q', '1', '-C', String(count)];
  for (const t of topicFilters) args.push('-t', t);
  const child = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onFirst: () => void = () => {};
  const firstLine = new Promise<void>((r) => (onFirst = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('\n')) onFirst();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Array<[string, string]>>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`mosquitto_sub exited ${code}: ${err}`));
      resolve(
        out
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => {
            const i = l.indexOf(' ');
            return [l.slice(0, i), l.slice(i + 1)] as [string, string];
          }),
      );
    });
  });
  return {
    done,
    firstLine,
    pid: child.pid ?? -1,
    kill: () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    },
  };
}
