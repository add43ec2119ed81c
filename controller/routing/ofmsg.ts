// The few OpenFlow messages routing emits, built as plain values (no session needed), so planners
// stay pure and tests read them directly.
import type { Outgoing } from '../session.ts';
import type { Action, Match } from '../openflow/index.ts';
import { OFPFC_ADD, OFPFC_DELETE, OFPG_ANY, OFPP_ANY, OFPTT_ALL, OFP_NO_BUFFER } from '../openflow/index.ts';

export const COOKIE_ALL_BITS = 0xffff_ffff_ffff_ffffn;

export interface AddFlow {
  readonly cookie: bigint;
  readonly priority: number;
  readonly idleTimeoutSec: number;
  readonly flags?: number;
  readonly match: Match;
  readonly actions: readonly Action[];
}

export function addFlow(f: AddFlow): Outgoing {
  return {
    type: 'flow_mod',
    cookie: f.cookie,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC_ADD,
    idleTimeout: f.idleTimeoutSec,
    hardTimeout: 0,
    priority: f.priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY,
    outGroup: OFPG_ANY,
    flags: f.flags ?? 0,
    match: f.match,
    instructions: [{ type: 'apply_actions', actions: f.actions }],
  };
}

/** Removes every rule carrying exactly this cookie, whatever it matches. */
export function deleteByCookie(cookie: bigint): Outgoing {
  return {
    type: 'flow_mod',
    cookie,
    cookieMask: COOKIE_ALL_BITS,
    tableId: OFPTT_ALL,
    command: OFPFC_DELETE,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    match: [],
    instructions: [],
  };
}

export function packetOut(inPort: number, outPorts: readonly number[], data: Buffer): Outgoing {
  return {
    type: 'packet_out',
    bufferId: OFP_NO_BUFFER,
    inPort,
    actions: outPorts.map((port) => ({ type: 'output', port, maxLen: 0 })),
    data,
  };
}
