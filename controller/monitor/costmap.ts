// The cost map (after IETF ALTO): from each attachment point (a switch with hosts) to every other,
// what a reader needs to choose: hops, how many equal-cost paths, the best and the most loaded
// path's bottleneck, the room of the whole equal-cost set, and the levels; with delay probes, the
// least queueing delay of any of the paths (the sum over its links: queueing delays add up).
//
// Structure once, numbers often. Per destination, one backward search (topology/shortest.ts) gives
// the equal-cost DAG; it is kept as integer arrays and rebuilt only when links or attachment points
// change. A load change recomputes only the destinations (columns) whose DAGs cross a link whose
// figures moved, by dynamic programs over the DAG, and reports the rows whose entries changed.
import { destinationTree, PathTables, type LinksInto } from '../topology/shortest.ts';
import type { Link } from '../topology/types.ts';
import type { Level } from './levels.ts';

/** One destination in a cost row (bus schema cost_row, version 2). */
export interface CostEntry {
  readonly dstPid: string;
  /** Hops of the shortest paths (0 when unreachable). */
  readonly hops: number;
  /** How many equal-cost shortest paths there are (0 when unreachable). */
  readonly paths: number;
  /** The best path's bottleneck utilization (min over paths of the max link utilization). */
  readonly bottleneckUtilization: number;
  /** The best path's room in bit/s (max over paths of the min link room). */
  readonly availableBps: number;
  /** The most loaded path's bottleneck utilization (max over paths of the max). */
  readonly worstUtilization: number;
  /** The most loaded path's room (min over paths of the min room). */
  readonly worstAvailableBps: number;
  /** Room of the whole equal-cost set: the smallest total room of any hop layer (an upper bound on what the set carries). */
  readonly aggregateBps: number;
  /** Level of the best path and of the most loaded one ('down' when unreachable). */
  readonly level: Level;
  readonly worstLevel: Level;
  /**
   * Only in a map made with queueDelay: the least queueing delay (ms, 0.1 ms steps) of any of the
   * equal-cost paths, each the sum over its links (0 when unreachable). Its path may differ from
   * the best path by utilization.
   */
  readonly queueDelayMs?: number;
}

export interface CostMapView {
  /** Changes whenever the structure or any figure changes (ALTO vtag). */
  readonly version: number;
  /** Attachment points (switches with hosts), sorted. */
  pids(): readonly string[];
  row(srcPid: string): readonly CostEntry[] | undefined;
  entry(srcPid: string, dstPid: string): CostEntry | undefined;
  /** Every equal-cost path (link ids, in order), up to limit (default 16). */
  paths(srcPid: string, dstPid: string, limit?: number): readonly (readonly string[])[];
}

/** What a link's load contributes: LinkLoad (monitor/assess.ts) satisfies it. */
export interface LinkFigures {
  readonly linkId: string;
  readonly utilization: number;
  readonly level: Level;
  /** When given, replaces the capacity the link was discovered with. */
  readonly capacityBps?: number;
  /** Queueing delay above the link's baseline (ms), from the delay probes; absent counts as 0. */
  readonly queueDelayMs?: number;
}

/** What one call changed. */
export interface CostMapChange {
  /** Source pids whose rows differ from before (an entry's figures, or the set of destinations). */
  readonly rows: ReadonlySet<string>;
  /** Of those, the rows whose structure changed: a new row, a destination gone, other hops, fewer paths, or reachability (a destination or paths added is growth, which can wait). */
  readonly structural: ReadonlySet<string>;
}

export const SEVERITY: Readonly<Record<Level, number>> = { ok: 0, warning: 1, congested: 2, down: 3 };
const LEVEL_OF: readonly Level[] = ['ok', 'warning', 'congested', 'down'];

/** Utilizations are kept to 3 decimals (what rows carry), so a link whose load wobbles below that changes nothing. */
export const quantize = (u: number): number => Math.round(Math.max(0, u) * 1000) / 1000;
/** Queueing delays are kept to 0.1 ms: finer is probe noise, and rows would churn with it. */
export const quantizeMs = (ms: number): number => Math.round(Math.max(0, ms) * 10) / 10;
/** A link's room in whole bit/s, from its quantized utilization: sums over links stay exact. */
export const roomOf = (capacityBps: number, u: number): number => Math.max(0, Math.round(capacityBps * (1 - u)));

/** The entry for a destination that cannot be reached. */
export function unreachable(dstPid: string): CostEntry {
  return { dstPid, hops: 0, paths: 0, bottleneckUtilization: 0, availableBps: 0, worstUtilization: 0, worstAvailableBps: 0, aggregateBps: 0, level: 'down', worstLevel: 'down' };
}

export function sameEntry(a: CostEntry, b: CostEntry): boolean {
  return (
    a.dstPid === b.dstPid &&
    a.hops === b.hops &&
    a.paths === b.paths &&
    a.bottleneckUtilization === b.bottleneckUtilization &&
    a.availableBps === b.availableBps &&
    a.worstUtilization === b.worstUtilization &&
    a.worstAvailableBps === b.worstAvailableBps &&
    a.aggregateBps === b.aggregateBps &&
    a.level === b.level &&
    a.worstLevel === b.worstLevel &&
    a.queueDelayMs === b.queueDelayMs
  );
}

/**
 * From a to b, the readers' picture of the network changed shape in a way they must hear of at
 * once: other hops, fewer paths, or reachability. More paths is growth: it can wait its turn.
 */
export function structureDiffers(a: CostEntry, b: CostEntry): boolean {
  return a.dstPid !== b.dstPid || a.hops !== b.hops || b.paths < a.paths || (a.level === 'down') !== (b.level === 'down');
}

/** One destination's equal-cost DAG as integer arrays over the structure's switch and link indices. */
interface Column {
  readonly dstPid: string;
  /** The switches that reach the destination, nearest first. */
  readonly order: Int32Array;
  /** Hops to the destination per switch index; -1 for a switch that does not reach it. */
  readonly dist: Int32Array;
  /** The DAG's links out of switch v are next[nextStart[v] .. nextStart[v + 1]). */
  readonly nextStart: Int32Array;
  readonly next: Int32Array;
  /** Shortest paths from each pid (by pid index) to the destination. */
  readonly counts: Float64Array;
}

/** Everything that changes only with the topology. */
interface Structure {
  readonly pids: readonly string[];
  readonly pidIndex: ReadonlyMap<string, number>;
  /** Switch index of each pid; -1 for a pid whose switch has no live link. */
  readonly pidSwitch: Int32Array;
  readonly links: readonly Link[];
  readonly linkIndex: ReadonlyMap<string, number>;
  readonly linkDst: Int32Array;
  readonly switchCount: number;
  readonly columns: readonly Column[];
  /** Per link index, the columns (pid indices) whose DAGs contain it. */
  readonly linkColumns: readonly Int32Array[];
  readonly into: LinksInto;
}

interface LoadState {
  readonly u: number;
  readonly severity: number;
  readonly capacityBps: number | undefined;
  readonly q: number;
}

export interface CostMapOptions {
  /** Entries carry queueDelayMs (the monitor sets it when delay probes run). */
  readonly queueDelay?: boolean;
}

export class CostMap implements CostMapView {
  private s: Structure = buildStructure([], []);
  /** Latest figures per live link id, kept across rebuilds while the link stays. */
  private readonly loads = new Map<string, LoadState>();
  // Per link index: the figures the dynamic programs read.
  private linkU = new Float64Array(0);
  private linkSev = new Int8Array(0);
  private linkRoom = new Float64Array(0);
  private linkQ = new Float64Array(0);
  /** Links whose figures moved since the columns were last computed. */
  private linkMoved = new Uint8Array(0);
  /** entries[src * n + dst]; the diagonal is unused. */
  private entries: (CostEntry | undefined)[] = [];
  private readonly rowCache = new Map<number, readonly CostEntry[]>();
  private tables: PathTables = new PathTables(() => []);
  private changes = 0;
  // Scratch for the dynamic programs, sized to the switch count.
  private bestU = new Float64Array(0);
  private bestRoom = new Float64Array(0);
  private worstU = new Float64Array(0);
  private worstRoom = new Float64Array(0);
  private bestSev = new Int8Array(0);
  private worstSev = new Int8Array(0);
  private bestQ = new Float64Array(0);
  private outRoom = new Float64Array(0);
  private touched = new Uint8Array(0);
  private stamp = new Int32Array(0);
  private queue = new Int32Array(0);
  private token = 0;
  private readonly withDelay: boolean;

  constructor(opts: CostMapOptions = {}) {
    this.withDelay = opts.queueDelay === true;
  }

  get version(): number {
    return this.changes;
  }

  pids(): readonly string[] {
    return this.s.pids;
  }

  row(srcPid: string): readonly CostEntry[] | undefined {
    const i = this.s.pidIndex.get(srcPid);
    if (i === undefined) return undefined;
    let r = this.rowCache.get(i);
    if (r === undefined) {
      const n = this.s.pids.length;
      const out: CostEntry[] = [];
      for (let j = 0; j < n; j++) if (j !== i) out.push(this.entries[i * n + j] as CostEntry);
      r = out;
      this.rowCache.set(i, r);
    }
    return r;
  }

  entry(srcPid: string, dstPid: string): CostEntry | undefined {
    const i = this.s.pidIndex.get(srcPid);
    const j = this.s.pidIndex.get(dstPid);
    if (i === undefined || j === undefined || i === j) return undefined;
    return this.entries[i * this.s.pids.length + j];
  }

  paths(srcPid: string, dstPid: string, limit = 16): readonly (readonly string[])[] {
    if (srcPid === dstPid || !this.s.pidIndex.has(srcPid) || !this.s.pidIndex.has(dstPid)) return [];
    return this.tables.paths(srcPid, dstPid, limit).map((p) => p.map((l) => l.id));
  }

  /**
   * The topology changed: live links (state 'up'; both ends' switches present) or the attachment
   * points. Rebuilds every destination's DAG and every figure; reports the rows that differ.
   */
  setStructure(links: Iterable<Link>, pids: Iterable<string>): CostMapChange {
    const before = this.s;
    const beforeEntries = this.entries;
    this.s = buildStructure(links, pids);
    this.tables = new PathTables(this.s.into);
    const s = this.s;
    // Figures of links that are gone: the next assessment brings them back if they return.
    for (const id of this.loads.keys()) if (!s.linkIndex.has(id)) this.loads.delete(id);
    const L = s.links.length;
    this.linkU = new Float64Array(L);
    this.linkSev = new Int8Array(L);
    this.linkRoom = new Float64Array(L);
    this.linkQ = new Float64Array(L);
    this.linkMoved = new Uint8Array(L);
    for (let l = 0; l < L; l++) this.setLink(l);
    this.sizeScratch(s.switchCount);
    const n = s.pids.length;
    this.entries = new Array<CostEntry | undefined>(n * n).fill(undefined);
    this.rowCache.clear();
    for (let c = 0; c < n; c++) this.computeColumn(c, true, undefined);

    const rows = new Set<string>();
    const structural = new Set<string>();
    const m = before.pids.length;
    // A destination that went away changes the shape of every row that listed it.
    const lostDestination = before.pids.some((p) => !s.pidIndex.has(p));
    for (let i = 0; i < n; i++) {
      const src = s.pids[i] as string;
      const bi = before.pidIndex.get(src);
      if (bi === undefined || lostDestination) {
        rows.add(src);
        structural.add(src);
      }
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const now = this.entries[i * n + j] as CostEntry;
        const bj = before.pidIndex.get(s.pids[j] as string);
        const was = bi === undefined || bj === undefined ? undefined : beforeEntries[bi * m + bj];
        if (was === undefined) {
          // A new destination: growth, which can wait for the row's turn.
          rows.add(src);
        } else if (structureDiffers(was, now)) {
          rows.add(src);
          structural.add(src);
        } else if (!sameEntry(was, now)) {
          rows.add(src);
        } else {
          // Keep the object readers already hold: unchanged entries stay identical.
          this.entries[i * n + j] = was;
        }
      }
    }
    this.changes++;
    return { rows, structural };
  }

  /**
   * New link figures (a whole assessment, or only the links that moved); links not in the current
   * structure are ignored. Recomputes the columns whose DAGs cross a link whose quantized figures
   * changed.
   */
  updateLoads(loads: Iterable<LinkFigures>): CostMapChange {
    const s = this.s;
    const dirty = new Uint8Array(s.pids.length);
    const moved: number[] = [];
    let any = false;
    for (const f of loads) {
      const q = this.withDelay ? quantizeMs(f.queueDelayMs ?? 0) : 0;
      const next: LoadState = { u: quantize(f.utilization), severity: SEVERITY[f.level], capacityBps: f.capacityBps, q };
      // A link outside the structure is down or not yet known: what it measured is no guide to
      // when it is back, so it starts from nothing (the next poll prices it).
      const l = s.linkIndex.get(f.linkId);
      if (l === undefined) continue;
      const prev = this.loads.get(f.linkId);
      if (prev !== undefined && prev.u === next.u && prev.severity === next.severity && prev.capacityBps === next.capacityBps && prev.q === next.q) continue;
      this.loads.set(f.linkId, next);
      const room = this.linkRoom[l];
      const u = this.linkU[l];
      const sev = this.linkSev[l];
      const lq = this.linkQ[l];
      this.setLink(l);
      if (room === this.linkRoom[l] && u === this.linkU[l] && sev === this.linkSev[l] && lq === this.linkQ[l]) continue;
      this.linkMoved[l] = 1;
      moved.push(l);
      for (const c of s.linkColumns[l] as Int32Array) {
        dirty[c] = 1;
        any = true;
      }
    }
    const rows = new Set<string>();
    const structural = new Set<string>();
    if (!any) return { rows, structural };
    const reshaped = new Set<number>();
    for (let c = 0; c < s.pids.length; c++) {
      if (dirty[c] === 1) for (const i of this.computeColumn(c, false, reshaped)) rows.add(s.pids[i] as string);
    }
    for (const l of moved) this.linkMoved[l] = 0;
    // A load never changes hops or path counts, but a live link whose level reads 'down' does change
    // whether readers may use the destination: that goes out at once, like a structure change.
    for (const i of reshaped) structural.add(s.pids[i] as string);
    if (rows.size > 0) this.changes++;
    return { rows, structural };
  }

  private setLink(l: number): void {
    const link = this.s.links[l] as Link;
    const f = this.loads.get(link.id);
    const u = f?.u ?? 0;
    this.linkU[l] = u;
    this.linkSev[l] = f?.severity ?? 0;
    this.linkRoom[l] = roomOf(f?.capacityBps ?? link.capacityBps, u);
    this.linkQ[l] = f?.q ?? 0;
  }

  private sizeScratch(n: number): void {
    if (this.bestU.length >= n) return;
    this.bestU = new Float64Array(n);
    this.bestRoom = new Float64Array(n);
    this.worstU = new Float64Array(n);
    this.worstRoom = new Float64Array(n);
    this.bestSev = new Int8Array(n);
    this.worstSev = new Int8Array(n);
    this.bestQ = new Float64Array(n);
    this.outRoom = new Float64Array(n);
    this.touched = new Uint8Array(n);
    this.stamp = new Int32Array(n);
    this.queue = new Int32Array(n);
    this.token = 0;
  }

  /**
   * Recomputes one destination's figures; returns the source pid indices whose entries changed.
   * Unless `all`, only sources whose part of the DAG holds a moved link get new entries: the
   * others cannot have changed, and their aggregate (a walk per set of first hops) is the costly part.
   * Sources whose entry changed shape are added to `reshaped`.
   */
  private computeColumn(c: number, all: boolean, reshaped: Set<number> | undefined): number[] {
    const s = this.s;
    const col = s.columns[c] as Column;
    const { order, nextStart, next, dist } = col;
    const { linkDst } = s;
    const { linkU, linkSev, linkRoom, linkQ, linkMoved } = this;
    const { bestU, bestRoom, worstU, worstRoom, bestSev, worstSev, bestQ, outRoom, touched } = this;
    // Nearest first, so every link's far end is done before its near end.
    if (order.length > 0) {
      const d = order[0] as number;
      bestU[d] = 0;
      worstU[d] = 0;
      bestRoom[d] = Infinity;
      worstRoom[d] = Infinity;
      bestSev[d] = 0;
      worstSev[d] = 0;
      bestQ[d] = 0;
      outRoom[d] = 0;
      touched[d] = 0;
    }
    for (let k = 1; k < order.length; k++) {
      const v = order[k] as number;
      let bu = Infinity;
      let br = -Infinity;
      let wu = -Infinity;
      let wr = Infinity;
      let bs = 127;
      let ws = -1;
      let bq = Infinity;
      let out = 0;
      let t = 0;
      for (let e = nextStart[v] as number, end = nextStart[v + 1] as number; e < end; e++) {
        const l = next[e] as number;
        const w = linkDst[l] as number;
        t |= (linkMoved[l] as number) | (touched[w] as number);
        const lu = linkU[l] as number;
        const lr = linkRoom[l] as number;
        const ls = linkSev[l] as number;
        out += lr;
        const pbu = Math.max(lu, bestU[w] as number);
        if (pbu < bu) bu = pbu;
        const pbr = Math.min(lr, bestRoom[w] as number);
        if (pbr > br) br = pbr;
        const pwu = Math.max(lu, worstU[w] as number);
        if (pwu > wu) wu = pwu;
        const pwr = Math.min(lr, worstRoom[w] as number);
        if (pwr < wr) wr = pwr;
        const pbs = Math.max(ls, bestSev[w] as number);
        if (pbs < bs) bs = pbs;
        const pws = Math.max(ls, worstSev[w] as number);
        if (pws > ws) ws = pws;
        const pbq = (linkQ[l] as number) + (bestQ[w] as number);
        if (pbq < bq) bq = pbq;
      }
      bestU[v] = bu;
      bestRoom[v] = br;
      worstU[v] = wu;
      worstRoom[v] = wr;
      bestSev[v] = bs;
      worstSev[v] = ws;
      bestQ[v] = bq;
      outRoom[v] = out;
      touched[v] = t;
    }

    const n = s.pids.length;
    const changed: number[] = [];
    const below = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const v = s.pidSwitch[i] as number;
      if (!all && (v < 0 || touched[v] === 0)) continue;
      const hops = v < 0 ? -1 : (dist[v] as number);
      const e: CostEntry =
        hops <= 0
          ? this.withDelay
            ? { ...unreachable(col.dstPid), queueDelayMs: 0 }
            : unreachable(col.dstPid)
          : {
              dstPid: col.dstPid,
              hops,
              paths: col.counts[i] as number,
              bottleneckUtilization: bestU[v] as number,
              availableBps: bestRoom[v] as number,
              worstUtilization: worstU[v] as number,
              worstAvailableBps: worstRoom[v] as number,
              aggregateBps: this.aggregate(col, v, below),
              level: LEVEL_OF[bestSev[v] as number] as Level,
              worstLevel: LEVEL_OF[worstSev[v] as number] as Level,
              // Sums of 0.1 ms steps, rounded back to them (float sums drift in the last bits).
              ...(this.withDelay ? { queueDelayMs: Math.round((bestQ[v] as number) * 10) / 10 } : {}),
            };
      const at = i * n + c;
      const was = this.entries[at];
      if (was !== undefined && sameEntry(was, e)) continue;
      if (was !== undefined && structureDiffers(was, e)) reshaped?.add(i);
      this.entries[at] = e;
      this.rowCache.delete(i);
      changed.push(i);
    }
    return changed;
  }

  /**
   * The smallest total room of a hop layer of the DAG below src. The first layer is src's own
   * links; the rest depends only on the set of switches they reach, which sources in one pod of a
   * fabric share, so it is walked once per set within a column (`below` caches it).
   */
  private aggregate(col: Column, src: number, below: Map<string, number>): number {
    const { nextStart, next } = col;
    const { linkDst } = this.s;
    const hops: number[] = [];
    for (let e = nextStart[src] as number, end = nextStart[src + 1] as number; e < end; e++) hops.push(linkDst[next[e] as number] as number);
    hops.sort((a, b) => a - b);
    const key = hops.join(',');
    let rest = below.get(key);
    if (rest === undefined) {
      rest = this.layersFrom(col, hops);
      below.set(key, rest);
    }
    return Math.min(this.outRoom[src] as number, rest);
  }

  /** The smallest total room of the hop layers reachable from `starts` (one layer); Infinity at the destination. */
  private layersFrom(col: Column, starts: readonly number[]): number {
    const { nextStart, next, dist } = col;
    const { linkDst } = this.s;
    const { outRoom, stamp, queue } = this;
    const t = ++this.token;
    let tail = 0;
    for (const v of starts) {
      if (stamp[v] !== t) {
        stamp[v] = t;
        queue[tail++] = v;
      }
    }
    let head = 0;
    let layer = -1;
    let sum = 0;
    let min = Infinity;
    // Every DAG link goes one hop nearer, so the walk meets the layers one after the other.
    while (head < tail) {
      const v = queue[head++] as number;
      const d = dist[v] as number;
      if (d === 0) break;
      if (d !== layer) {
        if (layer >= 0 && sum < min) min = sum;
        sum = 0;
        layer = d;
      }
      sum += outRoom[v] as number;
      for (let e = nextStart[v] as number, end = nextStart[v + 1] as number; e < end; e++) {
        const w = linkDst[next[e] as number] as number;
        if (stamp[w] !== t) {
          stamp[w] = t;
          queue[tail++] = w;
        }
      }
    }
    if (layer >= 0 && sum < min) min = sum;
    return min;
  }
}

function buildStructure(liveLinks: Iterable<Link>, pidList: Iterable<string>): Structure {
  const pids = [...new Set(pidList)].sort();
  const pidIndex = new Map(pids.map((p, i) => [p, i]));
  const switchIndex = new Map<string, number>();
  const sw = (dpid: string): number => {
    let i = switchIndex.get(dpid);
    if (i === undefined) {
      i = switchIndex.size;
      switchIndex.set(dpid, i);
    }
    return i;
  };
  const links: Link[] = [];
  const linkIndex = new Map<string, number>();
  const byObject = new Map<Link, number>();
  const intoMap = new Map<string, Link[]>();
  for (const l of liveLinks) {
    if (l.state !== 'up' || linkIndex.has(l.id)) continue;
    sw(l.src.dpid);
    sw(l.dst.dpid);
    linkIndex.set(l.id, links.length);
    byObject.set(l, links.length);
    links.push(l);
    let into = intoMap.get(l.dst.dpid);
    if (into === undefined) intoMap.set(l.dst.dpid, (into = []));
    into.push(l);
  }
  const pidSwitch = new Int32Array(pids.length).fill(-1);
  pids.forEach((p, i) => {
    const v = switchIndex.get(p);
    if (v !== undefined) pidSwitch[i] = v;
  });
  const switchCount = switchIndex.size;
  const linkDst = new Int32Array(links.length);
  links.forEach((l, i) => (linkDst[i] = switchIndex.get(l.dst.dpid) as number));
  const into: LinksInto = (dpid) => intoMap.get(dpid) ?? [];

  const columns = pids.map((dstPid): Column => {
    const dist = new Int32Array(switchCount).fill(-1);
    const counts = new Float64Array(pids.length);
    const nextStart = new Int32Array(switchCount + 1);
    if (!switchIndex.has(dstPid)) return { dstPid, order: new Int32Array(0), dist, nextStart, next: new Int32Array(0), counts };
    // The figures do not depend on the order of a switch's links; paths() ranks them from its own tables.
    const tree = destinationTree(dstPid, into, { sortNext: false });
    const order = new Int32Array(tree.order.length);
    const outs: (readonly Link[])[] = [];
    for (let k = 0; k < order.length; k++) {
      const dpid = tree.order[k] as string;
      const v = switchIndex.get(dpid) as number;
      order[k] = v;
      dist[v] = tree.dist.get(dpid) as number;
      const out = tree.next.get(dpid) ?? [];
      outs.push(out);
      nextStart[v + 1] = out.length;
    }
    for (let v = 0; v < switchCount; v++) nextStart[v + 1] = (nextStart[v + 1] as number) + (nextStart[v] as number);
    const next = new Int32Array(nextStart[switchCount] as number);
    for (let k = 0; k < order.length; k++) {
      let at = nextStart[order[k] as number] as number;
      for (const l of outs[k] as readonly Link[]) next[at++] = byObject.get(l) as number;
    }
    pids.forEach((p, i) => (counts[i] = tree.count.get(p) ?? 0));
    return { dstPid, order, dist, nextStart, next, counts };
  });
  // Per link, the columns whose DAGs hold it: counted, then filled, as one flat array.
  const held = new Int32Array(links.length + 1);
  for (const col of columns) for (const l of col.next) held[l + 1] = (held[l + 1] as number) + 1;
  for (let l = 0; l < links.length; l++) held[l + 1] = (held[l + 1] as number) + (held[l] as number);
  const fill = held.slice(0, links.length);
  const holders = new Int32Array(held[links.length] as number);
  columns.forEach((col, c) => {
    for (const l of col.next) {
      const at = fill[l] as number;
      holders[at] = c;
      fill[l] = at + 1;
    }
  });
  const linkColumns = Array.from({ length: links.length }, (_, l) => holders.subarray(held[l] as number, held[l + 1] as number));
  return { pids, pidIndex, pidSwitch, links, linkIndex, linkDst, switchCount, columns, linkColumns, into };
}
