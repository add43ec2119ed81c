// The few OpenFlow messages routing emits, built as plain values (no session needed), so planners
// stay pure and tests read them directly.
import type { Outgoing } from '../session.ts';
import type { Action, Match } from 'openflow-ts';
import { OFPFC_DELETE, OFPTT_ALL, OFP_NO_BUFFER, flowMod } from 'openflow-ts';

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
  return flowMod({
    cookie: f.cookie,
    idleTimeout: f.idleTimeoutSec,
    priority: f.priority,
    flags: f.flags ?? 0,
    match: f.match,
    instructions: [{ type: 'apply_actions', actions: f.actions }],
  });
}

/** Removes every rule whose cookie matches under the mask (by default: exactly this cookie), whatever it matches. */
export function deleteByCookie(cookie: bigint, cookieMask: bigint = COOKIE_ALL_BITS): Outgoing {
  return flowMod({ cookie, cookieMask, tableId: OFPTT_ALL, command: OFPFC_DELETE });
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
