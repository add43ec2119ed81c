// Shared steps of a lab variant: the client's sidecar on a host, waiting for it (and for fresh
// weights when coordinated), the bridge in process, and the live progress from generator output.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge } from '../bridge/bridge.ts';
import { defaultKeyDir, loadOrCreateSigner } from '../bus/signing.ts';
import type { PolicyParams } from '../bridge/policy.ts';
import { parseRegistry, type Registry } from '../bridge/registry.ts';
import { RegistryStore } from '../bridge/registry-store.ts';
import type { SidecarConfig } from '../bridge/sidecar/config.ts';
import { readRecords } from './collect.ts';
import type { LabEnv, HostProcess } from './env.ts';
import type { ProgressLine } from './progress.ts';
import { percentiles } from './stats.ts';

export const SIDECAR_PORT = 15001;
export const ADMIN_PORT = 15090;

/** Starts a built-in sidecar on a host from a config written into the variant's folder. */
export async function startSidecar(env: LabEnv, dir: string, config: SidecarConfig, name: string): Promise<HostProcess> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  const host = config.host ?? 'h1';
  // The sidecar takes weights signed by the keys in this directory: the lab bridge's among them.
  const proc = await env.node(host, name, 'bin/meshflow.js', ['sidecar', '--config', file, '--log-level', 'warn', '--key-dir', defaultKeyDir()]);
  await env.waitHttp(`http://${env.mgmt.addressOf(host)}:${config.admin.port}/healthz`);
  return proc;
}

export interface LoadSettings {
  /** Where the generator sends: the client's sidecar, with the path and query to ask for. */
  readonly url: string;
  readonly service: string;
  readonly rate: number;
  readonly durationSec: number;
  readonly tag: string;
  /** Request records, one JSON line each. */
  readonly out: string;
  readonly startMs: number;
  readonly timeoutMs: number;
  /** Send a traceparent with every request. */
  readonly trace?: boolean;
}

/** Starts the open-loop load generator on a host: it begins sending at `startMs`. */
export function startLoadgen(env: LabEnv, host: string, name: string, l: LoadSettings): Promise<HostProcess> {
  return env.node(host, name, 'labs/loadgen/main.ts', [
    '--url', l.url,
    '--service', l.service,
    '--rate', String(l.rate),
    '--duration', String(l.durationSec),
    '--tag', l.tag,
    '--out', l.out,
    '--start-at', String(l.startMs),
    '--timeout-ms', String(l.timeoutMs),
    ...(l.trace ? ['--trace'] : []),
  ]);
}

/** Where the labs' replicas serve. */
export const SERVICE_PORT = 8080;

/**
 * The client's sidecar on h1 in front of one service's replicas, its path warmed (ARP, flows,
 * keep-alive connections) before anything is measured. With `weights` it takes the bridge's weights
 * and is ready once it holds fresh ones; without, it has no broker at all and keeps even weights
 * (a plain mesh).
 */
export async function startClientSidecar(
  env: LabEnv,
  dir: string,
  name: string,
  o: { readonly service: string; readonly replicas: readonly { readonly id: string; readonly host: string }[]; readonly weights: boolean },
): Promise<HostProcess> {
  const sidecar = await startSidecar(
    env,
    dir,
    {
      id: 'client',
      host: 'h1',
      listen: { host: '127.0.0.1', port: SIDECAR_PORT },
      // The admin port faces the management network, where the runner scrapes it.
      admin: { host: env.mgmt.addressOf('h1'), port: ADMIN_PORT },
      ...(o.weights ? { mqttUrl: env.broker.urlFor('client', 'sidecar') } : {}),
      services: { [o.service]: { replicas: o.replicas.map((r) => ({ id: r.id, host: env.ipOf(r.host), port: SERVICE_PORT })) } },
      connectTimeoutMs: 2000,
    },
    name,
  );
  if (o.weights) await waitFreshWeights(env, 'h1');
  await env.net.cmd('h1', `for i in $(seq 8); do curl -s -o /dev/null -H 'Host: ${o.service}' 'http://127.0.0.1:${SIDECAR_PORT}/?size=1000'; done`, { timeoutMs: 30_000 });
  return sidecar;
}

/** Waits until a sidecar holds fresh weights from the bridge. */
export async function waitFreshWeights(env: LabEnv, host: string, port = ADMIN_PORT, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`http://${env.mgmt.addressOf(host)}:${port}/weights`).then((x) => x.json() as Promise<{ fresh: boolean }>).catch(() => ({ fresh: false }));
    if (r.fresh) return;
    if (Date.now() > deadline) throw new Error(`sidecar on ${host} got no fresh weights within ${timeoutMs} ms`);
    await sleep(250, undefined, { signal: env.signal });
  }
}

/** Runs the mesh bridge in process against the lab's broker; stopped at teardown at the latest. */
export async function startBridge(env: LabEnv, registry: Registry, params: Partial<PolicyParams>, controllerUrl?: string): Promise<{ bridge: Bridge; stop: () => Promise<void> }> {
  const bridge = new Bridge({
    signer: (await loadOrCreateSigner(defaultKeyDir(), 'bridge')).signer,
    mqttUrl: env.broker.urlFor('bridge'),
    registry: new RegistryStore(parseRegistry(registry)),
    params,
    weightsTtlMs: 15_000,
    source: `lab-bridge-${env.runId}`,
    ...(controllerUrl ? { controllerUrl } : {}),
  });
  await bridge.start();
  const stop = env.teardown.push('bridge', () => bridge.stop());
  return { bridge, stop };
}

export interface Phase {
  readonly name: string;
  /** ms epoch */
  readonly from: number;
}

/** Shows progress until `endMs` (or until `done()` says so), calling `at` hooks when their time comes. */
export async function drive(
  env: LabEnv,
  progress: ProgressLine,
  o: {
    lab: string;
    variant: string;
    startMs: number;
    endMs: number;
    outputs: readonly string[];
    phases: readonly Phase[];
    actions: readonly { at: number; run: () => Promise<void> }[];
    expected: number;
    graceMs: number;
  },
): Promise<void> {
  const pending = [...o.actions].sort((a, b) => a.at - b.at);
  let lastRead = 0;
  let p99: number | undefined;
  let count = 0;
  for (;;) {
    const now = Date.now();
    while (pending.length && (pending[0]?.at ?? Infinity) <= now) await pending.shift()?.run();
    if (now - lastRead >= 1000) {
      lastRead = now;
      const recs = await readRecords(o.outputs);
      count = recs.length;
      const recent = recs.filter((r) => r.due >= now - 5000);
      p99 = recent.length ? percentiles(recent).p99Ms : p99;
      if (count >= o.expected && now >= o.endMs) break;
    }
    if (now > o.endMs + o.graceMs) break;
    const phase = now < o.startMs ? 'starting' : now >= o.endMs ? 'draining' : ([...o.phases].reverse().find((p) => p.from <= now)?.name ?? 'running');
    progress.update({ lab: o.lab, variant: o.variant, phase, elapsedMs: now - o.startMs, remainingMs: o.endMs - now, requests: count, ...(p99 === undefined ? {} : { p99Ms: p99 }) });
    await sleep(250, undefined, { signal: env.signal });
  }
  progress.done();
}

export async function variantDir(runDir: string, variant: string): Promise<string> {
  const dir = join(runDir, variant);
  await mkdir(dir, { recursive: true });
  return dir;
}
