// One monitoring step as a pure function: the links, the port rates just measured and the previous
// level states give each link direction's load and level, and the level changes to announce.
import type { Endpoint, Link } from '../topology/types.ts';
import { endpointKey } from '../topology/types.ts';
import { initialLevelState, nextLevel, type Level, type LevelSettings, type LevelState } from './levels.ts';
import type { PortRate } from './rates.ts';

export interface LinkLoad {
  readonly linkId: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly capacityBps: number;
  /** smoothed bits per second out of src */
  readonly rateBps: number;
  /** smoothed rate / capacity */
  readonly utilization: number;
  /** the latest sample's rate / capacity, before smoothing */
  readonly sampleUtilization: number;
  /** packets dropped per second: sent side plus received side */
  readonly drops: number;
  readonly level: Level;
}

export interface LevelChange {
  readonly load: LinkLoad;
  readonly from: Level;
}

export interface Assessment {
  readonly states: ReadonlyMap<string, LevelState>;
  readonly loads: ReadonlyMap<string, LinkLoad>;
  readonly changes: readonly LevelChange[];
}

export function assess(
  links: Iterable<Link>,
  rates: ReadonlyMap<string, PortRate>,
  previous: Assessment,
  settings: LevelSettings,
): Assessment {
  const states = new Map<string, LevelState>();
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
      const sample = out ? out.txBps / link.capacityBps : (before?.sampleUtilization ?? 0);
      const state = out ? nextLevel(prevState, sample, settings) : prevState;
      states.set(link.id, state);
      load = {
        ...base(link),
        rateBps: state.smoothed * link.capacityBps,
        utilization: state.smoothed,
        sampleUtilization: sample,
        drops: out || into ? (out?.txDropsPerSec ?? 0) + (into?.rxDropsPerSec ?? 0) : (before?.drops ?? 0),
        level: state.level,
      };
    }
    loads.set(link.id, load);
    if (load.level !== (before?.level ?? 'ok')) changes.push({ load, from: before?.level ?? 'ok' });
  }
  return { states, loads, changes };
}

export const emptyAssessment: Assessment = { states: new Map(), loads: new Map(), changes: [] };

function base(link: Link): Pick<LinkLoad, 'linkId' | 'src' | 'dst' | 'capacityBps'> {
  return { linkId: link.id, src: link.src, dst: link.dst, capacityBps: link.capacityBps };
}
