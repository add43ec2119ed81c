// The cost map at data-center scale, without a controller: fat-trees built as link tables, the
// incremental cost map (controller/monitor/costmap.ts) timed on what a live network does to it.
// Run: npm run bench:costmap [-- --k 4,8,16,32]
// Times are CPU time of this process (user + system), medians of a few runs: on a shared machine
// they stay close to what a quiet one shows as wall time, where wall time would not.
//   build       structure and every figure after a topology change
//   1 link      one link's utilization moved: an edge uplink (in the most destinations' DAGs),
//               and a core downlink (in few DAGs, on the paths of most sources to them)
//   10% links   a tenth of all link directions moved at once
//   link down   one cable (both directions) gone: structure rebuilt, rows compared
//   row bytes   the largest cost_row hint as JSON; publication: every row once
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CostMap, type LinkFigures } from '../controller/monitor/costmap.ts';
import { HintPublisher } from '../bus/publisher.ts';
import { costColumns } from '../bus/hints.ts';
import { fatTree } from './fattree.ts';
import { median } from './emu/report.ts';

interface Row {
  readonly k: number;
  readonly switches: number;
  readonly pids: number;
  readonly links: number;
  readonly buildMs: number;
  readonly oneMs: number;
  readonly oneRows: number;
  readonly coreMs: number;
  readonly coreRows: number;
  readonly tenthMs: number;
  readonly tenthRows: number;
  readonly downMs: number;
  readonly downRows: number;
  readonly rowBytes: number;
  readonly fullBytes: number;
  readonly heapMiB: number;
}

/** CPU ms spent by f. */
function cpu(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

// A fixed generator, so every run measures the same loads.
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function measure(k: number): Row {
  const ft = fatTree(k);
  const rand = lcg(k);
  const map = new CostMap();
  const builds: number[] = [];
  for (let i = 0; i < (k >= 32 ? 1 : 3); i++) builds.push(cpu(() => map.setStructure(ft.links, ft.edges)));
  // A network with some load everywhere, so that moves show.
  const base = ft.links.map((l): LinkFigures => ({ linkId: l.id, utilization: Math.round(rand() * 500) / 1000, level: 'ok' }));
  map.updateLoads(base);

  // One edge uplink (edge → aggregation): it is in the DAG of every other pid.
  const uplink = ft.links.find((l) => l.src.dpid === ft.edges[0])!;
  const ones: number[] = [];
  let oneRows = 0;
  for (let i = 0; i < 5; i++) {
    ones.push(cpu(() => (oneRows = map.updateLoads([{ linkId: uplink.id, utilization: 0.6 + i * 0.07, level: i % 2 === 0 ? 'warning' : 'congested' }]).rows.size)));
  }

  // One core → aggregation link: in few destinations' DAGs, but on the paths of most sources to them.
  const coreFirst = ft.switches[ft.edges.length * 2]!;
  const downlink = ft.links.find((l) => l.src.dpid === coreFirst)!;
  const cores: number[] = [];
  let coreRows = 0;
  for (let i = 0; i < 5; i++) {
    cores.push(cpu(() => (coreRows = map.updateLoads([{ linkId: downlink.id, utilization: 0.6 + i * 0.07, level: i % 2 === 0 ? 'warning' : 'congested' }]).rows.size)));
  }

  const tenths: number[] = [];
  let tenthRows = 0;
  for (let i = 0; i < 3; i++) {
    const moved = ft.links.filter(() => rand() < 0.1).map((l): LinkFigures => ({ linkId: l.id, utilization: Math.round(rand() * 1000) / 1000, level: rand() < 0.2 ? 'congested' : 'ok' }));
    tenths.push(cpu(() => (tenthRows = map.updateLoads(moved).rows.size)));
  }

  // One aggregation–core cable down (both directions), then back.
  const cut = ft.links.find((l) => l.src.dpid === uplink.dst.dpid && ft.switches.indexOf(l.dst.dpid) >= ft.edges.length * 2)!;
  const without = ft.links.filter((l) => !(l.src.dpid === cut.src.dpid && l.dst.dpid === cut.dst.dpid) && !(l.src.dpid === cut.dst.dpid && l.dst.dpid === cut.src.dpid));
  const downs: number[] = [];
  let downRows = 0;
  for (let i = 0; i < (k >= 32 ? 1 : 3); i++) {
    downs.push(cpu(() => (downRows = map.setStructure(without, ft.edges).rows.size)));
    map.setStructure(ft.links, ft.edges);
  }

  const publisher = new HintPublisher({ publishAsync: async () => undefined as never }, { source: 'controller-4242', startSeq: 1_000_000 });
  let rowBytes = 0;
  let fullBytes = 0;
  for (const pid of map.pids()) {
    const hint = publisher.stamp({ kind: 'cost_row', srcPid: pid, costs: costColumns(map.row(pid)!) });
    const bytes = Buffer.byteLength(JSON.stringify(hint));
    rowBytes = Math.max(rowBytes, bytes);
    fullBytes += bytes;
  }
  return {
    k,
    switches: ft.switches.length,
    pids: ft.edges.length,
    links: ft.links.length,
    buildMs: median(builds),
    oneMs: median(ones),
    oneRows,
    coreMs: median(cores),
    coreRows,
    tenthMs: median(tenths),
    tenthRows,
    downMs: median(downs),
    downRows,
    rowBytes,
    fullBytes,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const kib = (b: number): string => (b / 1024).toFixed(1);

function main(): void {
  const arg = process.argv.indexOf('--k');
  const ks = arg > 0 ? (process.argv[arg + 1] ?? '').split(',').map(Number) : [4, 8, 16, 32];
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; times in CPU ms; (rows): rows whose entries changed`);
  console.log('| k | switches | pids | link directions | build ms | 1 uplink ms (rows) | 1 core link ms (rows) | 10% links ms (rows) | link down ms (rows) | max row KiB | publication KiB | heap MiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const k of ks) {
    const r = measure(k);
    console.log(
      `| ${r.k} | ${r.switches} | ${r.pids} | ${r.links} | ${ms(r.buildMs)} | ${ms(r.oneMs)} (${r.oneRows}) | ${ms(r.coreMs)} (${r.coreRows}) | ${ms(r.tenthMs)} (${r.tenthRows}) | ${ms(r.downMs)} (${r.downRows}) | ${kib(r.rowBytes)} | ${kib(r.fullBytes)} | ${r.heapMiB.toFixed(0)} |`,
    );
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
