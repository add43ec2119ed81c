// Fabric benchmark: meshflow against an emulated k-ary fat-tree of OpenFlow 1.3 switches
// (bench/emu, a process of its own; LLDP crosses the emulated cables, port statistics come from
// configured loads).
//   npm run bench:fabric [-- --k 4,8,16] [--cpu-secs 30] [--quick] [--discovery-timeout-ms 60000]
// Per k: discovery time (every link direction of the wiring up in GET /api/v1/links), hosts
// learned, sessions the controller closed, controller CPU over 1 s polls with idle links and with
// 10% of links loaded, cost-row traffic on the bus, the time from a 95% load step on one link to
// GET /api/v1/congestion and to a retained cost row showing it, the time from a cable failing (and
// coming back) to GET /api/v1/links showing both directions down (up), and how long SIGTERM takes.
// Capacity: no topology file is given, so meshflow takes the ports' 10 Gb/s speed as capacity;
// loads are set as fractions of that.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { startFabric, PORT_CAPACITY_BPS, type EmuHandle } from './emu/driver.ts';
import { benchDir, removeBenchDir, startMeshflow, type RunningProcess } from './emu/controllers.ts';
import { CpuMeter, rssMiB } from './emu/proc.ts';
import { fmtInt, fmtMs, printTable, sleep } from './emu/report.ts';
import { rowShows } from './emu/costrow.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    k: { type: 'string' },
    'cpu-secs': { type: 'string' },
    'discovery-timeout-ms': { type: 'string', default: '60000' },
    'step-timeout-ms': { type: 'string', default: '30000' },
    'poll-interval': { type: 'string', default: '1000' },
  },
});
const KS = (flags.k ?? (flags.quick ? '4,8' : '4,8,16')).split(',').map(Number);
const CPU_SECS = Number(flags['cpu-secs'] ?? (flags.quick ? 10 : 30));
const DISCOVERY_TIMEOUT_MS = Number(flags['discovery-timeout-ms']);
const STEP_TIMEOUT_MS = Number(flags['step-timeout-ms']);
const POLL_MS = Number(flags['poll-interval']);

interface Result {
  k: number;
  switches: number;
  linkDirections: number;
  discovery: string;
  hosts: string;
  closes: number;
  cpuIdle: string;
  cpuLoaded: string;
  busIdle: string;
  toCongestion: string;
  toCostRow: string;
  cableDown: string;
  cableUp: string;
  sigterm: string;
  rss: string;
  echo: string;
}

async function getJson<T>(url: string, timeoutMs = 5000): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Polls until probe() is true or the deadline passes; returns ms taken or undefined. */
async function until(probe: () => Promise<boolean>, timeoutMs: number, everyMs: number, from = performance.now()): Promise<number | undefined> {
  for (;;) {
    try {
      if (await probe()) return performance.now() - from;
    } catch {
      // A controller too busy to answer is measured by the deadline.
    }
    if (performance.now() - from > timeoutMs) return undefined;
    await sleep(everyMs);
  }
}

/** Controller CPU (mean and max of 1 s samples) and cost-row traffic over `secs`. */
async function cpuWindow(c: RunningProcess, bus: BusCounter, secs: number): Promise<{ cpu: string; bus: string }> {
  const meter = new CpuMeter(c.pid);
  const samples: number[] = [];
  bus.reset();
  for (let i = 0; i < secs; i++) {
    await sleep(1000);
    samples.push(meter.read());
  }
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const { msgs, bytes } = bus.reset();
  return {
    cpu: `${mean.toFixed(0)}% (max ${Math.max(...samples).toFixed(0)}%)`,
    bus: `${(msgs / secs).toFixed(1)} rows/s, ${fmtInt(bytes / secs / 1024)} KiB/s`,
  };
}

class BusCounter {
  private msgs = 0;
  private bytes = 0;
  /** Called with each cost row received (parsed), and when it arrived. */
  onRow: ((row: unknown, at: number) => void) | undefined;
  constructor(readonly client: MqttClient) {
    client.on('message', (_topic, payload) => {
      this.msgs++;
      this.bytes += payload.length;
      if (this.onRow === undefined) return;
      try {
        this.onRow(JSON.parse(payload.toString('utf8')), performance.now());
      } catch {
        // Not JSON: not a row we can read.
      }
    });
  }

  reset(): { msgs: number; bytes: number } {
    const r = { msgs: this.msgs, bytes: this.bytes };
    this.msgs = 0;
    this.bytes = 0;
    return r;
  }
}

async function runK(k: number): Promise<Result> {
  const res: Result = {
    k, switches: (5 * k * k) / 4, linkDirections: k * k * k, discovery: '-', hosts: '-', closes: 0, cpuIdle: '-', cpuLoaded: '-',
    busIdle: '-', toCongestion: '-', toCostRow: '-', cableDown: '-', cableUp: '-', sigterm: '-', rss: '-', echo: '-',
  };
  const dir = benchDir(`fabric-k${k}`);
  let ok = true;
  let c: RunningProcess | undefined;
  let emu: EmuHandle | undefined;
  let bus: MqttClient | undefined;
  try {
    c = await startMeshflow({ dir, args: ['--poll-interval', String(POLL_MS)] });
    bus = mqttConnect(c.brokerUrl!, { reconnectPeriod: 500, protocolVersion: 4 });
    const counter = new BusCounter(bus);
    await bus.subscribeAsync('meshflow/v1/costs/#', { qos: 0 });
    const api = c.apiUrl!;
    const tSpawn = performance.now();
    emu = await startFabric({ port: c.ofPort, k });
    // Discovery is timed from the moment every switch is connected (the emulator's start-up is not the controller's).
    const t0 = performance.now();
    const connectedMs = t0 - tSpawn;
    const want = new Set(emu.links);
    let upCount = 0;
    const disc = await until(
      async () => {
        const links = await getJson<{ id: string; state: string }[]>(`${api}/api/v1/links`);
        upCount = links.filter((l) => l.state === 'up' && want.has(l.id)).length;
        return upCount === want.size;
      },
      DISCOVERY_TIMEOUT_MS,
      250,
      t0,
    );
    res.discovery = disc === undefined ? `NOT FINISHED: ${upCount}/${want.size} after ${DISCOVERY_TIMEOUT_MS / 1000} s` : `${fmtMs(disc / 1000)} s (emulator up in ${fmtMs(connectedMs / 1000)} s)`;
    console.log(`k=${k}: ${res.switches} switches, ${want.size} link directions: discovery ${res.discovery}`);
    const macs = new Set(emu.hosts.map((h) => h.mac));
    let learned = 0;
    let lastAnnounce = 0;
    const hostsMs = await until(
      async () => {
        // The hosts announce once by themselves; repeat for ports that had not settled yet.
        if (performance.now() - lastAnnounce > 2000) {
          lastAnnounce = performance.now();
          await emu!.announce();
        }
        const hosts = await getJson<{ mac: string }[]>(`${api}/api/v1/hosts`);
        learned = hosts.filter((h) => macs.has(h.mac)).length;
        return learned === macs.size;
      },
      20_000,
      250,
    );
    res.hosts = hostsMs === undefined ? `NOT FINISHED: ${learned}/${macs.size}` : `${macs.size} in ${fmtMs(hostsMs / 1000)} s more`;
    console.log(`k=${k}: hosts ${res.hosts}`);
    await emu.stats();
    const idle = await cpuWindow(c, counter, CPU_SECS);
    res.cpuIdle = idle.cpu;
    res.busIdle = idle.bus;
    console.log(`k=${k}: idle: controller CPU ${idle.cpu}, cost rows on the bus ${idle.bus}`);
    const loaded = await emu.setLoad({ randomFraction: 0.1, seed: k }, 0.4 * PORT_CAPACITY_BPS);
    const busy = await cpuWindow(c, counter, CPU_SECS);
    res.cpuLoaded = busy.cpu;
    console.log(`k=${k}: ${loaded.length} random link directions at 40%: controller CPU ${busy.cpu}, cost rows ${busy.bus}`);
    // The step: one edge-to-aggregation direction outside the random set goes to 95%.
    const stepLink = emu.links.find((id) => !loaded.includes(id) && id.startsWith('0000000000010')) ?? emu.links[0]!;
    let rowAt: number | undefined;
    counter.onRow = (row, at) => {
      if (rowAt === undefined && rowShows(row, 0.85)) rowAt = at;
    };
    const tStep = performance.now();
    await emu.setLoad({ linkId: stepLink }, 0.95 * PORT_CAPACITY_BPS);
    const congMs = await until(
      async () => {
        const loads = await getJson<{ linkId: string; level: string }[]>(`${api}/api/v1/congestion`);
        return loads.some((l) => l.linkId === stepLink && l.level === 'congested');
      },
      STEP_TIMEOUT_MS,
      50,
      tStep,
    );
    const rowMs = await until(async () => rowAt !== undefined, Math.max(0, STEP_TIMEOUT_MS - (performance.now() - tStep)), 50, tStep);
    res.toCongestion = congMs === undefined ? `NOT within ${STEP_TIMEOUT_MS / 1000} s` : `${fmtMs(congMs)} ms`;
    res.toCostRow = rowMs === undefined || rowAt === undefined ? `NOT within ${STEP_TIMEOUT_MS / 1000} s` : `${fmtMs(rowAt - tStep)} ms`;
    console.log(`k=${k}: load step on ${stepLink} to 95%: /congestion "congested" after ${res.toCongestion}, cost row after ${res.toCostRow}`);
    // A cable fails and comes back: PORT_STATUS at both ends, then LLDP over it again.
    const [a, b] = stepLink.split('-');
    const reverse = `${b}-${a}`;
    const bothAre = (state: string) => async (): Promise<boolean> => {
      const links = await getJson<{ id: string; state: string }[]>(`${api}/api/v1/links`);
      return links.filter((l) => (l.id === stepLink || l.id === reverse) && l.state === state).length === 2;
    };
    let tCable = performance.now();
    await emu.linkDown(stepLink);
    const downMs = await until(bothAre('down'), STEP_TIMEOUT_MS, 20, tCable);
    res.cableDown = downMs === undefined ? `NOT within ${STEP_TIMEOUT_MS / 1000} s` : `${fmtMs(downMs)} ms`;
    tCable = performance.now();
    await emu.linkUp(stepLink);
    const upMs = await until(bothAre('up'), STEP_TIMEOUT_MS, 20, tCable);
    res.cableUp = upMs === undefined ? `NOT within ${STEP_TIMEOUT_MS / 1000} s` : `${fmtMs(upMs)} ms`;
    console.log(`k=${k}: cable of ${stepLink} down → both directions down in /links after ${res.cableDown}; up again → both up after ${res.cableUp}`);
    const s = await emu.stats();
    res.closes = s.closes;
    res.echo = `${s.echo.late} late of ${s.echo.sent}, max wait ${fmtMs(s.echo.maxWaitMs)} ms`;
    res.rss = fmtInt(rssMiB(c.pid));
  } catch (err) {
    console.log(`k=${k}: FAILED: ${(err as Error).message} (logs in ${dir})`);
    ok = false;
  } finally {
    await bus?.endAsync(true).catch(() => undefined);
    if (c) {
      const stopped = await c.stop(15_000);
      res.sigterm = stopped.killed ? 'NOT within 15 s (killed)' : `${fmtMs(stopped.termMs)} ms`;
      console.log(`k=${k}: SIGTERM → exit ${res.sigterm}`);
    }
    await emu?.stop();
    if (ok) removeBenchDir(dir);
  }
  return res;
}

console.log(`fabric bench: fat-trees k=${KS.join(', ')}; CPU windows of ${CPU_SECS} s; poll interval ${POLL_MS} ms; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const results: Result[] = [];
for (const k of KS) results.push(await runK(k));
console.log('');
printTable(
  ['k', 'switches', 'link dirs', 'discovery', 'hosts learned', 'sessions closed', 'CPU idle', 'CPU 10% loaded', 'cost rows idle', '95% step → /congestion', '→ cost row', 'cable down → /links', 'cable up → /links', 'SIGTERM', 'RSS MiB', 'emulator echoes (step window)'],
  results.map((r) => [String(r.k), String(r.switches), String(r.linkDirections), r.discovery, r.hosts, String(r.closes), r.cpuIdle, r.cpuLoaded, r.busIdle, r.toCongestion, r.toCostRow, r.cableDown, r.cableUp, r.sigterm, r.rss, r.echo]),
);
console.log(`capacity: the ports' 10 Gb/s (no topology file); CPU: the controller process, % of one core. load average now ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
