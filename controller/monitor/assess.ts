// One monitoring step as a pure function: the links, the port rates just measured (and the delay
// probes' figures, when probing) and the previous level states give each link direction's load and
// level, and the level changes to announce. A link's level is the worse of its utilization level and
// its queueing-delay level, each with its own hysteresis.
import type { CapacitySource, Endpoint, Link } from '../topology/types.ts';
import { endpointKey } from '../topology/types.ts';
import { defaultDelayLevelSettings, initialLevelState, nextLevel, worseLevel, type Level, type LevelSettings, type LevelState, type LoadLevel } from './levels.ts';
import type { PortRate } from './rates.ts';
import type { DelayFigures } from './probes.ts';

export interface LinkLoad {
  readonly linkId: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly capacityBps: number;
  /** Where the capacity came from. */
  readonly capacitySource: CapacitySource;
  /** smoothed bits per second out of src */
  readonly rateBps: number;
  /** smoothed rate / capacity */
  readonly utilization: number;
  /** the latest sample's rate / capacity, before smoothing */
  readonly sampleUtilization: number;
  /** packets dropped per second: sent side plus received side */
  readonly drops: number;
  /** The worse of the utilization level and the delay level. */
  readonly level: Level;
  /** From the delay probes (ms), once a probe of this direction came back: one-way delay, its baseline, the queueing delay above it. */
  readonly delayMs?: number;
  readonly baseDelayMs?: number;
  readonly queueDelayMs?: number;
  /** The level from queueing delay alone, when probing. */
  readonly delayLevel?: LoadLevel;
}

export interface LevelChange {
  readonly load: LinkLoad;
  readonly from: Level;
}

export interface Assessment {
  /** Utilization level states. */
  readonly states: ReadonlyMap<string, LevelState>;
  /** Queueing-delay level states, of the links probed. */
  readonly delayStates?: ReadonlyMap<string, LevelState>;
  readonly loads: ReadonlyMap<string, LinkLoad>;
  readonly changes: readonly LevelChange[];
}

export function assess(
  links: Iterable<Link>,
  rates: ReadonlyMap<string, PortRate>,
  previous: Assessment,
  settings: LevelSettings,
  /** The probes' figures since the last step (absent: not probing, or none back). */
  delays?: ReadonlyMap<string, DelayFigures>,
  delaySettings: LevelSettings = defaultDelayLevelSettings,
): Assessment {
  const states = new Map<string, LevelState>();
  const delayStates = new Map<string, LevelState>();
  const loads = new Map<string, LinkLoad>();
  const changes: LevelChange[] = [];
  for (const link of links) {
    const before = previous.loads.get(link.id);
    let load: LinkLoad;
    if (link.state === 'down') {
      load = { ...base(link), rateBps: 0, utilization: 0, sampleUtilization: 0, drops: 0, level: 'down' };
    } else {
      const out = rates.get(endpointKey(link.src));
      const into = rates.get(endpointKey(link.dst));
      // A link that was down (or is new) starts afresh; one with no fresh sample keeps its state.
      const prevState = before?.level === 'down' ? initialLevelState : (previous.states.get(link.id) ?? initialLevelState);
      // Capacity 0 is unknown: utilization is reported as 0 (never NaN) and raises no level by itself.
      const sized = link.capacityBps > 0;
      const sample = out ? (sized ? out.txBps / link.capacityBps : 0) : (before?.sampleUtilization ?? 0);
      const state = out ? nextLevel(prevState, sample, settings) : prevState;
      states.set(link.id, state);
      // Delay figures and level: like utilization, a direction with no fresh probe keeps its own.
      const fresh = delays?.get(link.id);
      const prevDelay = before?.level === 'down' ? undefined : previous.delayStates?.get(link.id);
      const delayState = fresh ? nextLevel(prevDelay ?? initialLevelState, fresh.queueDelayMs, delaySettings) : prevDelay;
      if (delayState !== undefined) delayStates.set(link.id, delayState);
      const figures = fresh ?? (before?.level === 'down' ? undefined : delayOf(before));
      load = {
        ...base(link),
        rateBps: sized ? state.smoothed * link.capacityBps : (out?.txBps ?? before?.rateBps ?? 0),
        utilization: state.smoothed,
        sampleUtilization: sample,
        drops: out || into ? (out?.txDropsPerSec ?? 0) + (into?.rxDropsPerSec ?? 0) : (before?.drops ?? 0),
        level: delayState === undefined ? state.level : worseLevel(state.level, delayState.level),
        ...(figures === undefined
          ? {}
          : { delayMs: figures.delayMs, baseDelayMs: figures.baseDelayMs, queueDelayMs: figures.queueDelayMs }),
        ...(delayState === undefined ? {} : { delayLevel: delayState.level }),
      };
    }
    loads.set(link.id, load);
    if (load.level !== (before?.level ?? 'ok')) changes.push({ load, from: before?.level ?? 'ok' });
  }
  return { states, delayStates, loads, changes };
}

export const emptyAssessment: Assessment = { states: new Map(), loads: new Map(), changes: [] };

function base(link: Link): Pick<LinkLoad, 'linkId' | 'src' | 'dst' | 'capacityBps' | 'capacitySource'> {
  return { linkId: link.id, src: link.src, dst: link.dst, capacityBps: link.capacityBps, capacitySource: link.capacitySource ?? 'port' };
}

/** The delay figures a load carries, if any. */
function delayOf(load: LinkLoad | undefined): DelayFigures | undefined {
  return load?.delayMs === undefined ? undefined : { delayMs: load.delayMs, baseDelayMs: load.baseDelayMs ?? 0, queueDelayMs: load.queueDelayMs ?? 0 };
}
