// What a controller does with a switch it has just become master of: it adopts the flow table as
// it is. Nothing is deleted: the table-miss entry is installed only if the switch has none (a
// switch no master has programmed yet), and the forwarding and intent rules the previous master
// left keep carrying traffic. Links come back with one LLDP round sent at once.
import { OFPG_ANY, OFPP_ANY, OFPTT_ALL } from 'openflow-ts';
import type { FlowStats } from 'openflow-ts/wire';
import type { SwitchSession, TableMissPolicy } from '../session.ts';

export interface Adoption {
  /** Rules on the switch when we took it. */
  readonly flows: number;
  /** Whether the switch lacked a table-miss entry and got ours. */
  readonly installedTableMiss: boolean;
}

/** The switch's whole flow table, every table. */
export async function readFlows(s: Pick<SwitchSession, 'multipart'>): Promise<FlowStats[]> {
  const parts = await s.multipart({ kind: 'flow', tableId: OFPTT_ALL, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [] });
  return parts.flatMap((p) => [...p.stats]);
}

/** A table-miss entry: priority 0, matching everything, in table 0. */
export const isTableMiss = (f: FlowStats): boolean => f.tableId === 0 && f.priority === 0 && f.match.length === 0;

export async function adoptSwitch(s: Pick<SwitchSession, 'multipart' | 'program' | 'meters'>, tableMiss: TableMissPolicy): Promise<Adoption> {
  const flows = await readFlows(s);
  if (flows.some(isTableMiss)) return { flows: flows.length, installedTableMiss: false };
  // No master has programmed this switch: its meters 1 and 2 are not in use by any rule of ours.
  await s.program(tableMiss(s.meters));
  return { flows: flows.length, installedTableMiss: true };
}
