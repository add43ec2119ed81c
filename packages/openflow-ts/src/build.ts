// Message builders with the spec's neutral defaults, so a caller names only what it means:
// flowMod({ priority: 10, match, instructions }) is an add to table 0 that never expires.
import { OFPFC_ADD, OFPG_ANY, OFPP_ANY, OFP_NO_BUFFER } from './constants.ts';
import type { FlowMod } from './messages/index.ts';

export type FlowModFields = Partial<Omit<FlowMod, 'type' | 'xid'>>;

export function flowMod(f: FlowModFields = {}): Omit<FlowMod, 'xid'> {
  return {
    type: 'flow_mod',
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC_ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    match: [],
    instructions: [],
    ...f,
  };
}
