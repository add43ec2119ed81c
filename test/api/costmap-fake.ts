// A hand-made cost map for API tests: four attachment points, three in a line (s1 - s2 - s3, with
// two equal-cost paths between s2 and s3) and s4 cut off, with figures the tests can change.
import type { CostEntry, CostMapView } from '../../controller/monitor/costmap.ts';
import type { Level } from '../../controller/monitor/levels.ts';

export const S1 = '0000000000000001';
export const S2 = '0000000000000002';
export const S3 = '0000000000000003';
export const S4 = '0000000000000004';

function entry(dstPid: string, hops: number, paths: number, u: number, level: Level = 'ok'): CostEntry {
  if (paths === 0) {
    return { dstPid, hops: 0, paths: 0, bottleneckUtilization: 0, availableBps: 0, worstUtilization: 0, worstAvailableBps: 0, aggregateBps: 0, level: 'down', worstLevel: 'down' };
  }
  const room = Math.round(10e6 * (1 - u));
  return {
    dstPid,
    hops,
    paths,
    bottleneckUtilization: u,
    availableBps: room,
    worstUtilization: Math.min(1, u * 2),
    worstAvailableBps: Math.round(10e6 * (1 - Math.min(1, u * 2))),
    aggregateBps: room * paths,
    level,
    worstLevel: level,
  };
}

export class FakeCostMap implements CostMapView {
  version = 7;
  private readonly rows = new Map<string, CostEntry[]>();
  private readonly pathLists = new Map<string, string[][]>();

  constructor() {
    this.rows.set(S1, [entry(S2, 1, 1, 0.1), entry(S3, 2, 2, 0.25), entry(S4, 0, 0, 0)]);
    this.rows.set(S2, [entry(S1, 1, 1, 0.1), entry(S3, 1, 2, 0.5, 'warning'), entry(S4, 0, 0, 0)]);
    this.rows.set(S3, [entry(S1, 2, 2, 0.2), entry(S2, 1, 2, 0.95, 'congested'), entry(S4, 0, 0, 0)]);
    this.rows.set(S4, [entry(S1, 0, 0, 0), entry(S2, 0, 0, 0), entry(S3, 0, 0, 0)]);
    this.pathLists.set(`${S1}>${S2}`, [['l12']]);
    this.pathLists.set(`${S1}>${S3}`, [['l12', 'l23a'], ['l12', 'l23b']]);
    this.pathLists.set(`${S2}>${S1}`, [['l21']]);
    this.pathLists.set(`${S2}>${S3}`, [['l23a'], ['l23b']]);
    this.pathLists.set(`${S3}>${S1}`, [['l32a', 'l21'], ['l32b', 'l21']]);
    this.pathLists.set(`${S3}>${S2}`, [['l32a'], ['l32b']]);
  }

  pids(): readonly string[] {
    return [...this.rows.keys()].sort();
  }

  row(srcPid: string): readonly CostEntry[] | undefined {
    return this.rows.get(srcPid);
  }

  entry(srcPid: string, dstPid: string): CostEntry | undefined {
    return this.rows.get(srcPid)?.find((e) => e.dstPid === dstPid);
  }

  paths(srcPid: string, dstPid: string, limit = 16): readonly (readonly string[])[] {
    return (this.pathLists.get(`${srcPid}>${dstPid}`) ?? []).slice(0, limit);
  }

  /** A poll moved a figure: new version, same structure. */
  setUtilization(src: string, dst: string, u: number): void {
    const row = this.rows.get(src);
    const i = row?.findIndex((e) => e.dstPid === dst) ?? -1;
    const old = row?.[i];
    if (!row || !old) throw new Error(`no entry ${src} -> ${dst}`);
    row[i] = entry(dst, old.hops, old.paths, u, old.level);
    this.version++;
  }
}
