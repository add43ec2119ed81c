// A packet-in storm through a real Open vSwitch bridge (userspace datapath), against the meshflow
// controller as a separate process, with each guard on and off: no guard, admission alone, and
// admission with the meter on the table-miss entry (the defaults). Where bench/packet-in.ts storms
// with emulated switches, this one shows what the switch's own meter does. Needs root and OVS.
// Run: node --import tsx bench/storm-ovs.ts [--seconds 10]
//
// Method
// - Two netdev bridges: one with three hosts (one storms, two ping), one with a quiet host.
// - The storm: ARP requests with a new source MAC each, from a raw socket in the host's namespace,
//   as fast as Python sends them (test/controller/storm-sender.py), for --seconds.
// - Meanwhile /api/v1/healthz is asked every 50 ms (2 s each at most; later counts as failed),
//   and the controller's RSS and CPU are read from /proc.
// - After it: the time until a ping between a quiet host and the storm host first gets a reply
//   (a pair that never spoke: ARP and a new flow through the controller), reconnects of either
//   switch (meshflow_switch_connections_total), packet-ins handled (admitted) and dropped, and
//   the packets meter 1 dropped (ovs-ofctl meter-stats).
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchDir, startMeshflow, type RunningProcess } from './emu/controllers.ts';
import { CpuMeter, rssMiB, watchHealthz } from './emu/proc.ts';
import { TestBridge, cleanStale, ofctl, type TestHost } from '../test/support/ovs.ts';

const { values: flags } = parseArgs({ options: { seconds: { type: 'string' } } });
const SECONDS = Number(flags.seconds ?? 10);
const SENDER = fileURLToPath(new URL('../test/controller/storm-sender.py', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  readonly config: string;
  sent: number;
  healthz: { n: number; failed: number; p50: number; p99: number; max: number };
  cpuPct: number;
  rssBefore: number;
  rssMax: number;
  recoveredMs: number | undefined;
  reconnects: number;
  admitted: number;
  dropped: number;
  meterDropped: number;
}

async function metrics(apiUrl: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = await (await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  for (const line of text.split('\n')) {
    const m = /^(meshflow_[a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(m[1]! + (m[2] ?? ''), (out.get(m[1]! + (m[2] ?? '')) ?? 0) + Number(m[3]));
  }
  return out;
}

function sum(m: Map<string, number>, name: string): number {
  let n = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) n += v;
  return n;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const pingOnce = (bridge: TestBridge, from: TestHost, to: TestHost): Promise<boolean> =>
  bridge.inNs(from, 'ping', ['-c', '1', '-W', '1', to.ip]).then(
    () => true,
    () => false,
  );

async function innerInterface(bridge: TestBridge, host: TestHost): Promise<string> {
  const out = await bridge.inNs(host, 'ip', ['-o', 'link', 'show']);
  const name = out.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).find((n) => n !== undefined && n !== 'lo');
  if (!name) throw new Error(`no interface in ${host.ns}`);
  return name;
}

function storm(host: TestHost, iface: string, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', host.ns, '/usr/bin/python3', SENDER, '--iface', iface, '--count', '100000000', '--seconds', String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve((JSON.parse(out) as { sent: number }).sent) : reject(new Error(`sender exited ${code}`))));
  });
}

async function run(config: string, args: readonly string[]): Promise<Row> {
  let c: RunningProcess | undefined;
  const bridges: TestBridge[] = [];
  try {
    c = await startMeshflow({ dir: benchDir('storm-ovs'), args: [...args, '--echo-interval', '1000'] });
    const apiUrl = c.apiUrl!;
    const stormy = await TestBridge.create({ controllerPort: c.ofPort, hosts: 3 });
    bridges.push(stormy);
    bridges.push(await TestBridge.create({ controllerPort: c.ofPort, hosts: 1, subnet: 250 - (process.pid % 200) }));
    const [sender, a, b] = stormy.hosts as [TestHost, TestHost, TestHost];
    await waitUntil('both switches', async () => ((await (await fetch(`${apiUrl}/api/v1/healthz`)).json()) as { switches: number }).switches === 2, 30_000);
    await waitUntil('a ping before the storm', () => pingOnce(stormy, a, b), 30_000);
    const before = await metrics(apiUrl);
    const pid = c.pid;
    const rssBefore = rssMiB(pid) ?? 0;
    const cpu = new CpuMeter(pid);
    const healthz = watchHealthz(apiUrl, pid);
    const sent = await storm(sender, await innerInterface(stormy, sender), SECONDS);
    const cpuPct = cpu.read();
    const end = performance.now();
    let recoveredMs: number | undefined;
    while (performance.now() - end < 60_000) {
      if (await pingOnce(stormy, b, sender)) {
        recoveredMs = performance.now() - end;
        break;
      }
    }
    const h = await healthz.stop();
    const after = await metrics(apiUrl);
    const meter = /meter:1 [^]*?0: packet_count:(\d+)/.exec(await ofctl('meter-stats', stormy.name).catch(() => ''));
    const delta = (name: string): number => sum(after, name) - sum(before, name);
    return {
      config,
      sent,
      healthz: h,
      cpuPct,
      rssBefore,
      rssMax: h.rssMax,
      recoveredMs,
      reconnects: delta('meshflow_switch_connections_total'),
      admitted: delta('meshflow_admission_admitted_total'),
      dropped: delta('meshflow_admission_dropped_total'),
      meterDropped: meter ? Number(meter[1]) : 0,
    };
  } finally {
    for (const br of bridges) await br.destroy();
    await c?.stop();
  }
}

await cleanStale();
const configs: [string, string[]][] = [
  ['no guard', ['--packet-in-rate', '0', '--packet-in-meter', '0']],
  ['admission 2000/s', ['--packet-in-meter', '0']],
  ['admission + meter 1000/s (defaults)', []],
];
const rows: Row[] = [];
for (const [name, args] of configs) {
  console.log(`storm-ovs: ${name}, ${SECONDS} s ...`);
  rows.push(await run(name, args));
}
const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
console.log(`\nstorm through a real OVS netdev bridge, ${SECONDS} s; healthz every 50 ms\n`);
console.log('| config | frames sent | healthz n / failed | p50 ms | p99 ms | max ms | CPU % | RSS MiB before → max | reconnects | packet-ins handled | dropped (admission) | dropped (meter) | first ping after, ms |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.config} | ${r.sent} | ${r.healthz.n} / ${r.healthz.failed} | ${f(r.healthz.p50, 1)} | ${f(r.healthz.p99, 1)} | ${f(r.healthz.max, 1)} | ${f(r.cpuPct)} | ${f(r.rssBefore)} → ${f(r.rssMax)} | ${r.reconnects} | ${r.admitted} | ${r.dropped} | ${r.meterDropped} | ${r.recoveredMs === undefined ? 'none in 60 s' : f(r.recoveredMs)} |`,
  );
}
