// A stand-in data plane for planner tests (faucet's fakeoftable, reduced to what routing emits):
// one flow table per switch that applies flow-mods, and a tracer that walks a packet through the
// tables and the cables until it reaches a host, the controller, a drop, or a loop.
import type { Outgoing } from '../../controller/session.ts';
import type { Match, OxmField } from 'openflow-ts';
import { OFPFC_ADD, OFPFC_DELETE } from 'openflow-ts';
import type { SwitchProgram } from '../../controller/routing/forwarding.ts';
import type { Endpoint, Link } from '../../controller/topology/types.ts';

export interface Entry {
  readonly cookie: bigint;
  readonly priority: number;
  readonly match: Match;
  readonly outPort: number;
  readonly flags: number;
  readonly idleTimeout: number;
  /** Header fields the rule rewrites (set_field actions) before it outputs. */
  readonly sets: Fields;
}

/** Header fields of a test packet, named as OXM fields. */
export type Fields = Readonly<Record<string, string | number>>;

export type TraceResult =
  | { readonly kind: 'delivered'; readonly at: Endpoint; readonly path: readonly string[]; readonly fields: Fields }
  | { readonly kind: 'controller'; readonly at: Endpoint; readonly path: readonly string[] }
  | { readonly kind: 'dropped'; readonly at: Endpoint; readonly path: readonly string[] }
  | { readonly kind: 'loop'; readonly path: readonly string[] };

const matchKey = (m: Match): string => JSON.stringify([...m].map((f) => ('value' in f ? [f.field, String(f.value)] : [f.field])).sort());

export class FakeNetwork {
  readonly tables = new Map<string, Entry[]>();
  readonly applied: { dpid: string; msg: Outgoing }[] = [];

  constructor(
    readonly links: readonly Link[],
    readonly hostPorts: readonly Endpoint[],
  ) {}

  apply(programs: readonly SwitchProgram[]): void {
    for (const p of programs) for (const msg of p.messages) this.applyOne(p.dpid, msg);
  }

  entries(dpid: string): readonly Entry[] {
    return this.tables.get(dpid) ?? [];
  }

  allCookies(): Set<bigint> {
    return new Set([...this.tables.values()].flat().map((e) => e.cookie));
  }

  trace(from: Endpoint, fields: Fields): TraceResult {
    let at = from;
    let current = fields;
    const path: string[] = [];
    for (let i = 0; i < 32; i++) {
      path.push(at.dpid);
      const entry = this.lookup(at.dpid, { ...current, in_port: at.port });
      if (entry === undefined) return { kind: 'controller', at, path };
      current = { ...current, ...entry.sets };
      const link = this.links.find((l) => l.state === 'up' && l.src.dpid === at.dpid && l.src.port === entry.outPort);
      if (link === undefined) {
        const host = this.hostPorts.find((h) => h.dpid === at.dpid && h.port === entry.outPort);
        return host ? { kind: 'delivered', at: host, path, fields: current } : { kind: 'dropped', at, path };
      }
      at = link.dst;
    }
    return { kind: 'loop', path };
  }

  lookup(dpid: string, fields: Fields): Entry | undefined {
    return this.entries(dpid)
      .filter((e) => e.match.every((f) => matches(f, fields)))
      .sort((a, b) => b.priority - a.priority)[0];
  }

  private applyOne(dpid: string, msg: Outgoing): void {
    this.applied.push({ dpid, msg });
    if (msg.type !== 'flow_mod') throw new Error(`programs carry flow-mods only, got ${msg.type}`);
    const table = this.tables.get(dpid) ?? [];
    if (msg.command === OFPFC_ADD) {
      const inst = msg.instructions[0];
      const actions = inst?.type === 'apply_actions' ? inst.actions : [];
      const out = actions.at(-1);
      const sets: Record<string, string | number> = {};
      for (const a of actions.slice(0, -1)) {
        if (a.type !== 'set_field' || !('value' in a.field) || typeof a.field.value === 'bigint') throw new Error('the fake table knows set_field (then output) actions only');
        sets[a.field.field] = a.field.value;
      }
      if (out?.type !== 'output' || msg.instructions.length !== 1) {
        throw new Error('the fake table knows rules that end in one output action only');
      }
      // OpenFlow 1.3: an add with the same match and priority replaces the entry, cookie included.
      const kept = table.filter((e) => !(e.priority === msg.priority && matchKey(e.match) === matchKey(msg.match)));
      kept.push({ cookie: msg.cookie, priority: msg.priority, match: msg.match, outPort: out.port, flags: msg.flags, idleTimeout: msg.idleTimeout, sets });
      this.tables.set(dpid, kept);
    } else if (msg.command === OFPFC_DELETE) {
      if (msg.match.length !== 0) throw new Error('the fake table deletes by cookie only');
      this.tables.set(dpid, table.filter((e) => (e.cookie & msg.cookieMask) !== (msg.cookie & msg.cookieMask)));
    } else {
      throw new Error(`flow-mod command ${msg.command} not modelled`);
    }
  }
}

function matches(f: OxmField, fields: Fields): boolean {
  if (!('value' in f)) return false;
  return fields[f.field] !== undefined && String(fields[f.field]) === String(f.value);
}
