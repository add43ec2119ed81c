// Runs one lab end to end: environment up, measurement, teardown (always: on success, error,
// Ctrl-C or SIGTERM), a check that nothing of the run is left, then the report.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LabEnv } from './env.ts';
import type { Lab, LabReport } from './lab.ts';
import { ProgressLine } from './progress.ts';

export interface RunLabOptions {
  readonly durationSec?: number;
  /** Run folder; default runs/<lab>-<timestamp>/ under the current directory. */
  readonly outDir?: string;
  /** Port of the controller's API and live dashboard during the run (default 0: any free port). */
  readonly apiPort?: number;
  readonly log?: (line: string) => void;
}

export interface LabRunResult extends LabReport {
  readonly runDir: string;
  readonly runId: string;
  readonly teardown: readonly string[];
}

export function defaultRunDir(lab: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return resolve('runs', `${lab}-${stamp}`);
}

export async function runLab<M>(lab: Lab<M>, o: RunLabOptions = {}): Promise<LabRunResult> {
  const runDir = resolve(o.outDir ?? defaultRunDir(lab.name));
  await mkdir(join(runDir, 'logs'), { recursive: true });
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const abort = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = sig;
    log(`\n${sig}: stopping the lab and tearing everything down…`);
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // An error thrown in some event handler (controller, bus) would end the process with the
  // management bridge and host processes still there: stop the lab instead, and tear down.
  let crash: unknown;
  const onCrash = (err: unknown): void => {
    crash ??= err;
    log(`lab ${lab.name}: uncaught error, tearing down: ${(err as Error).stack ?? String(err)}`);
    abort.abort(err);
  };
  process.on('uncaughtException', onCrash);
  let env: LabEnv | undefined;
  let measured: { value: M } | undefined;
  let failure: unknown;
  try {
    env = await LabEnv.start({ topology: lab.topology(), runDir, mgmtHosts: lab.mgmtHosts, signal: abort.signal, log, ...(o.apiPort !== undefined ? { apiPort: o.apiPort } : {}) });
    const progress = new ProgressLine(env.ctl.hub);
    measured = { value: await lab.measure(env, { durationSec: o.durationSec ?? lab.defaultDurationSec, runDir, progress }) };
  } catch (err) {
    failure = signalled ? new Error(`lab ${lab.name} interrupted by ${signalled}`) : (crash ?? err);
  }
  // Teardown runs whatever happened above; signals stay caught until it is done.
  const teardown = env ? await env.stop() : [];
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtException', onCrash);
  if (crash !== undefined) failure ??= crash;
  if (teardown.length) log(`teardown problems: ${teardown.join('; ')}`);
  if (failure !== undefined || measured === undefined) {
    if (signalled) process.exitCode = 130;
    throw failure ?? new Error(`lab ${lab.name} measured nothing`);
  }
  const runId = env?.runId ?? '????';
  const report = await lab.report(measured.value, { runDir, runId, teardown });
  return { ...report, runDir, runId, teardown };
}
