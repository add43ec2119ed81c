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
  const progress = new ProgressLine(undefined);
  let env: LabEnv | undefined;
  let measured: M | undefined;
  let failure: unknown;
  try {
    env = await LabEnv.start({ topology: lab.topology(), runDir, mgmtHosts: lab.mgmtHosts, signal: abort.signal, log });
    const live = new ProgressLine(env.ctl.hub);
    measured = await lab.measure(env, { durationSec: o.durationSec ?? lab.defaultDurationSec, runDir, progress: live });
  } catch (err) {
    failure = signalled ? new Error(`lab ${lab.name} interrupted by ${signalled}`) : err;
  } finally {
    progress.done();
    const teardown = env ? await env.stop() : [];
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (teardown.length) log(`teardown problems: ${teardown.join('; ')}`);
    if (failure !== undefined) {
      if (signalled) process.exitCode = 130;
      // eslint-disable-next-line no-unsafe-finally
      throw failure;
    }
    const runId = env?.runId ?? '????';
    const report = await lab.report(measured as M, { runDir, runId, teardown });
    // eslint-disable-next-line no-unsafe-finally
    return { ...report, runDir, runId, teardown };
  }
}
