// Packet-in benchmark, cbench's method: emulated OpenFlow 1.3 switches (bench/emu, a process of
// their own) with M source MACs each and D destinations, against meshflow, os-ken with an L2
// learning app and ovs-testcontroller, side by side in one run.
//   npm run bench:packet-in [-- --quick] [--sizes 64,1000,4000] [--loops 4] [--loop-ms 3000]
//     [--controllers meshflow,os-ken,ovs-testcontroller] [--modes latency,throughput]
//     [--switches 16] [--dests 4] [--cap 256] [--storm-ms 20000] [--no-storm] [--storm-only]
// Latency mode: one packet-in outstanding per switch. Throughput mode: the socket kept full, up to
// --cap outstanding per switch. Each loop prints its rate; the table shows first, last and median.
// Storm (meshflow only): one switch sends ARP packet-ins from new MACs as fast as TCP takes them
// while the API's healthz, the echoes, a quiet second switch and the RSS are watched.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { startCbench, type EmuHandle, type EmuStats } from './emu/driver.ts';
import { benchDir, removeBenchDir, referenceAvailable, startMeshflow, startOsken, startOvsTestController, type RunningProcess } from './emu/controllers.ts';
import { CpuMeter, rssMiB, watchHealthz } from './emu/proc.ts';
import { fmtInt, fmtMs, median, printTable, sleep } from './emu/report.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    loops: { type: 'string' },
    'loop-ms': { type: 'string' },
    controllers: { type: 'string', default: 'meshflow,os-ken,ovs-testcontroller' },
    modes: { type: 'string', default: 'latency,throughput' },
    switches: { type: 'string', default: '16' },
    dests: { type: 'string', default: '4' },
    cap: { type: 'string', default: '256' },
    'storm-ms': { type: 'string' },
    'no-storm': { type: 'boolean', default: false },
    'storm-only': { type: 'boolean', default: false },
    'learn-timeout-ms': { type: 'string', default: '20000' },
    'lost-after-ms': { type: 'string', default: '2000' },
  },
});

const quick = flags.quick;
const SIZES = (flags.sizes ?? (quick ? '64,1000' : '64,1000,4000')).split(',').map(Number);
const LOOPS = Number(flags.loops ?? (quick ? 2 : 4));
const LOOP_MS = Number(flags['loop-ms'] ?? (quick ? 2000 : 3000));
const SWITCHES = Number(flags.switches);
const DESTS = Number(flags.dests);
const CAP = Number(flags.cap);
const STORM_MS = Number(flags['storm-ms'] ?? (quick ? 5000 : 20_000));
const LEARN_TIMEOUT_MS = Number(flags['learn-timeout-ms']);
const LOST_AFTER_MS = Number(flags['lost-after-ms']);
const MODES = flags.modes.split(',') as ('latency' | 'throughput')[];
const CONTROLLERS = flags.controllers.split(',');

interface LoopResult {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpu: number;
  readonly rss: number | undefined;
  readonly emuCpu: number;
  readonly lost: number;
}

interface Row {
  readonly controller: string;
  readonly macs: number;
  readonly mode: string;
  readonly loops: readonly LoopResult[];
  readonly note: string;
}

const rows: Row[] = [];

async function startController(name: string, dir: string): Promise<RunningProcess> {
  switch (name) {
    case 'meshflow':
      // Capacity is what is measured here: the packet-in guard (2,000/s per switch by default)
      // would cap 16 switches at 32,000/s. The storm below runs with the defaults.
      return startMeshflow({ dir, args: ['--packet-in-rate', '0'] });
    case 'os-ken':
      return startOsken(dir);
    case 'ovs-testcontroller':
      return startOvsTestController(dir);
    default:
      throw new Error(`unknown controller ${name}`);
  }
}

async function getJson<T>(url: string, timeoutMs = 5000): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Destinations announce themselves until the controller knows them (meshflow) or for a moment (others). */
async function learn(c: RunningProcess, emu: EmuHandle): Promise<string> {
  if (c.apiUrl === undefined) {
    for (let i = 0; i < 3; i++) {
      await emu.announce();
      await sleep(300);
    }
    return '';
  }
  const want = new Set(emu.hosts.map((h) => h.mac));
  const t0 = performance.now();
  let known = 0;
  while (performance.now() - t0 < LEARN_TIMEOUT_MS) {
    await emu.announce();
    await sleep(500);
    try {
      const hosts = await getJson<{ mac: string }[]>(`${c.apiUrl}/api/v1/hosts`);
      known = hosts.filter((h) => want.has(h.mac)).length;
      if (known === want.size) return `learned ${known} destinations in ${fmtMs(performance.now() - t0)} ms`;
    } catch {
      // A slow API is the controller's problem: keep announcing until the deadline.
    }
  }
  return `NOT FINISHED learning: ${known}/${want.size} destinations after ${LEARN_TIMEOUT_MS} ms`;
}

async function runLoops(c: RunningProcess, emu: EmuHandle, label: string, loops: number, loopMs: number): Promise<{ loops: LoopResult[]; last: EmuStats | undefined; all: EmuStats[] }> {
  const cpu = new CpuMeter(c.pid);
  await emu.stats();
  const out: LoopResult[] = [];
  let last: EmuStats | undefined;
  const all: EmuStats[] = [];
  for (let l = 0; l < loops; l++) {
    await sleep(loopMs);
    const s = await emu.stats();
    last = s;
    all.push(s);
    const cb = s.cbench;
    const r: LoopResult = {
      rate: cb ? (cb.answered / s.windowMs) * 1000 : 0,
      p50: cb?.rttMs.p50 ?? NaN,
      p99: cb?.rttMs.p99 ?? NaN,
      cpu: cpu.read(),
      rss: rssMiB(c.pid),
      emuCpu: s.emulatorCpuPct,
      lost: cb?.lost ?? 0,
    };
    out.push(r);
    console.log(
      `  ${label} loop ${l + 1}/${loops}: ${fmtInt(r.rate)} answered/s, RTT p50 ${fmtMs(r.p50)} ms p99 ${fmtMs(r.p99)} ms, ` +
        `controller CPU ${r.cpu.toFixed(0)}%, RSS ${fmtInt(r.rss)} MiB, outstanding ${cb?.outstanding ?? 0}, lost ${r.lost}, ${cb && cb.answered > 0 ? Math.round((cb.answeredByFlowMod / cb.answered) * 100) : 0}% first answered by flow-mod, emulator CPU ${r.emuCpu.toFixed(0)}%` +
        (s.closes > 0 ? `, sessions closed so far ${s.closes}` : ''),
    );
  }
  return { loops: out, last, all };
}

async function cbenchRun(name: string, macs: number): Promise<void> {
  const dir = benchDir('packet-in');
  let c: RunningProcess | undefined;
  let emu: EmuHandle | undefined;
  const label = `${name} ${SWITCHES}x${macs}`;
  let ok = true;
  try {
    c = await startController(name, dir);
    emu = await startCbench({ port: c.ofPort, switches: SWITCHES, macs, dests: DESTS, lostAfterMs: LOST_AFTER_MS });
    const learned = await learn(c, emu);
    console.log(`${label}: controller pid ${c.pid}, ${learned || 'destinations announced'}`);
    for (const mode of MODES) {
      await emu.traffic(mode, CAP);
      const { loops, last, all: lasts } = await runLoops(c, emu, `${label} ${mode}`, LOOPS, LOOP_MS);
      await emu.traffic('off');
      const notes: string[] = [];
      if (learned.startsWith('NOT')) notes.push('destinations not all learned');
      if (last && last.closes > 0) notes.push(`${last.closes} sessions closed`);
      const late = lasts.reduce((n, x) => n + x.echo.late, 0);
      if (late > 0) notes.push(`${late} echo intervals passed with an echo unanswered`);
      const lost = loops.reduce((n, l) => n + l.lost, 0);
      if (lost > 0) notes.push(`${fmtInt(lost)} unanswered after ${LOST_AFTER_MS} ms`);
      if (loops.some((l) => l.emuCpu > 90)) notes.push('emulator CPU-bound');
      if (loops.every((l) => l.rate === 0)) notes.push('NO packet-in answered');
      rows.push({ controller: name, macs, mode, loops, note: notes.join('; ') });
      // Let what is still queued drain before the next mode's loops.
      await sleep(300);
    }
  } catch (err) {
    console.log(`${label}: FAILED: ${(err as Error).message} (logs in ${dir})`);
    rows.push({ controller: name, macs, mode: MODES.join('+'), loops: [], note: `failed: ${(err as Error).message}` });
    ok = false;
  } finally {
    await emu?.stop();
    const stopped = await c?.stop(5000);
    if (stopped?.killed) console.log(`${label}: did not end within 5 s of SIGTERM: killed`);
    if (ok) removeBenchDir(dir);
  }
}

interface StormReport {
  sent: number;
  emuCpu: number;
  healthz: { n: number; failed: number; p50: number; p99: number; max: number };
  echo: { sent: number; answered: number; late: number; maxWaitMs: number };
  lostAfter: number;
  closes: number;
  quietConnected: boolean;
  rssBefore: number | undefined;
  rssMax: number;
  baseline: number;
  after: number[];
}

async function storm(): Promise<StormReport | string> {
  const dir = benchDir('storm');
  let ok = true;
  let c: RunningProcess | undefined;
  let emu: EmuHandle | undefined;
  try {
    c = await startMeshflow({ dir });
    // Switch 0 storms; switch 1 stays quiet and must stay connected.
    // A dropped packet-in costs the latency loop after the storm only half a second of waiting.
    emu = await startCbench({ port: c.ofPort, switches: 2, macs: 64, dests: DESTS, lostAfterMs: 500 });
    const learned = await learn(c, emu);
    console.log(`storm: controller pid ${c.pid}, ${learned}`);
    await emu.traffic('latency');
    await sleep(1000);
    await emu.stats();
    await sleep(2000);
    const base = await emu.stats();
    const baseline = ((base.cbench?.answered ?? 0) / base.windowMs) * 1000;
    await emu.traffic('off');
    const rssBefore = rssMiB(c.pid);
    const healthz = watchHealthz(c.apiUrl!, c.pid);
    await emu.stats();
    const sent = await emu.storm(0, STORM_MS);
    const during = await emu.stats();
    const h = await healthz.stop();
    // Full speed again the moment the storm ends: latency mode in half-second windows.
    await emu.traffic('latency');
    const after: number[] = [];
    let lostAfter = 0;
    for (let i = 0; i < 8; i++) {
      await sleep(500);
      const s = await emu.stats();
      after.push(((s.cbench?.answered ?? 0) / s.windowMs) * 1000);
      lostAfter += s.cbench?.lost ?? 0;
    }
    const fin = await emu.stats();
    await emu.traffic('off');
    return {
      sent,
      emuCpu: during.emulatorCpuPct,
      healthz: h,
      echo: { sent: during.echo.sent, answered: during.echo.answered, late: during.echo.late, maxWaitMs: during.echo.maxWaitMs },
      lostAfter,
      closes: fin.closes,
      quietConnected: fin.featured === 2,
      rssBefore,
      rssMax: h.rssMax,
      baseline,
      after,
    };
  } catch (err) {
    ok = false;
    return `storm FAILED: ${(err as Error).message} (logs in ${dir})`;
  } finally {
    await emu?.stop();
    const stopped = await c?.stop(5000);
    if (stopped?.killed) console.log('storm: meshflow did not end within 5 s of SIGTERM: killed');
    if (ok) removeBenchDir(dir);
  }
}

const avail = referenceAvailable();
const wanted = CONTROLLERS.filter((n) => {
  if (n === 'os-ken' && !avail.osken) return console.log('os-ken: /usr/bin/osken-manager missing (apt-get install python3-os-ken): skipped'), false;
  if (n === 'ovs-testcontroller' && !avail.testcontroller) return console.log('ovs-testcontroller missing (apt-get install openvswitch-testcontroller): skipped'), false;
  return true;
});
console.log(
  `packet-in bench: ${SWITCHES} switches x M source MACs, ${DESTS} destinations each; M in ${SIZES.join(', ')}; ` +
    `${LOOPS} loops of ${LOOP_MS} ms per mode (${MODES.join(', ')}); throughput cap ${CAP} outstanding per switch; ` +
    `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
);
const started = performance.now();
if (!flags['storm-only']) {
  for (const macs of SIZES) for (const name of wanted) await cbenchRun(name, macs);
}
let stormReport: StormReport | string | undefined;
if (!flags['no-storm'] && wanted.includes('meshflow')) stormReport = await storm();

console.log('');
if (rows.length > 0) {
  printTable(
    ['controller', 'hosts (switches x MACs)', 'mode', 'answered/s first', 'last', 'median', 'RTT p50 ms', 'RTT p99 ms', 'CPU %', 'RSS MiB', 'notes'],
    rows.map((r) => {
      const rates = r.loops.map((l) => l.rate);
      return [
        r.controller,
        `${fmtInt(SWITCHES * r.macs)} (${SWITCHES}x${r.macs})`,
        r.mode,
        fmtInt(rates[0]),
        fmtInt(rates.at(-1)),
        fmtInt(median(rates)),
        fmtMs(median(r.loops.map((l) => l.p50))),
        fmtMs(median(r.loops.map((l) => l.p99))),
        r.loops.length ? median(r.loops.map((l) => l.cpu)).toFixed(0) : '-',
        fmtInt(r.loops.at(-1)?.rss),
        r.note,
      ];
    }),
  );
  console.log('RTT columns: the median over loops of each loop\'s p50 and p99. CPU: the controller process, % of one core.');
}
if (typeof stormReport === 'string') console.log(`\n${stormReport}`);
else if (stormReport) {
  const s = stormReport;
  console.log(`\nstorm (meshflow, ${STORM_MS} ms of ARP packet-ins from new MACs on one switch, a quiet second switch):`);
  printTable(
    ['packet-ins sent (/s, emulator CPU)', 'healthz p50 ms', 'healthz p99 ms', 'healthz max ms', 'healthz failed', 'echoes answered (late)', 'longest echo wait ms', 'sessions closed', 'quiet switch connected', 'RSS before → max MiB', 'latency-mode rate before', 'after, per 0.5 s', 'lost after (> 0.5 s)'],
    [[
      `${fmtInt(s.sent)} (${fmtInt(s.sent / (STORM_MS / 1000))}/s, ${s.emuCpu.toFixed(0)}%)`,
      fmtMs(s.healthz.p50),
      fmtMs(s.healthz.p99),
      fmtMs(s.healthz.max),
      `${s.healthz.failed}/${s.healthz.n}`,
      `${s.echo.answered}/${s.echo.sent} (${s.echo.late})`,
      fmtMs(s.echo.maxWaitMs),
      String(s.closes),
      s.quietConnected ? 'yes' : 'NO',
      `${fmtInt(s.rssBefore)} → ${fmtInt(s.rssMax)}`,
      fmtInt(s.baseline),
      s.after.map(fmtInt).join(' '),
      String(s.lostAfter),
    ]],
  );
}
console.log(`\ntotal ${fmtMs((performance.now() - started) / 1000)} s; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores: figures from a loaded machine are low)`);
