// Small probes of the real system for the topology tests: what OVS and Linux hold for one run.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec(cmd, args, { maxBuffer: 16 << 20 });
  return stdout;
}

/** Polls until probe() returns true, or fails naming what it waited for. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** OVS bridges of one run (every bridge of a run is named mf<runId>...). */
export async function bridgesOf(runId: string): Promise<string[]> {
  const out = await sh('ovs-vsctl', '--timeout=10', 'list-br');
  return out.split('\n').filter((b) => b.startsWith(`mf${runId}`)).sort();
}

/** Root-namespace interfaces whose name carries the run id. */
export async function interfacesOf(runId: string): Promise<string[]> {
  const out = await sh('ip', '-o', 'link');
  return out.split('\n').filter((l) => l.includes(runId));
}

export async function namespacesOf(runId: string): Promise<string[]> {
  const out = await sh('ip', 'netns', 'list');
  return out.split('\n').filter((l) => l.includes(runId));
}

export function stateFileExists(runId: string): boolean {
  return existsSync(`/tmp/meshflow-mininet/${runId}.json`);
}

export function pidAlive(pid: number): boolean {
  // A zombie has no /proc/<pid>/cwd to read; only a live process counts.
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return existsSync(`/proc/${pid}/exe`);
}

/** Everything of a run is gone: bridges, interfaces, namespaces, state file. */
export async function assertRunGone(runId: string): Promise<void> {
  const left = [
    ...(await bridgesOf(runId)).map((b) => `bridge ${b}`),
    ...(await interfacesOf(runId)).map((l) => `interface ${l}`),
    ...(await namespacesOf(runId)).map((n) => `netns ${n}`),
    ...(stateFileExists(runId) ? [`state file of ${runId}`] : []),
  ];
  if (left.length) throw new Error(`run ${runId} left behind:\n${left.join('\n')}`);
}

export async function vsctlGet(table: string, record: string, column: string): Promise<string> {
  return (await sh('ovs-vsctl', '--timeout=10', 'get', table, record, column)).trim();
}
