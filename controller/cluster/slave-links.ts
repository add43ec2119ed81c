// A slave hears the master's LLDP. By OpenFlow 1.3's default async config a switch sends a slave
// no packet-ins, so a controller taking over would know no link, and none of the links' load,
// until its own LLDP round and a monitor baseline: its first paths would run over links the old
// master was steering traffic around. As a slave it asks for packet-ins of reason OFPR_ACTION
// too, which is how the LLDP rule (output:CONTROLLER) reports the master's probes; the group
// shares one LLDP instance, so its discovery takes them as its own. Table-miss packet-ins
// (OFPR_NO_MATCH) stay the master's.
import { OFPR_ACTION } from 'openflow-ts';
import type { SwitchSession } from '../session.ts';

export async function hearLinksAsSlave(s: Pick<SwitchSession, 'request' | 'send'>): Promise<void> {
  const a = await s.request({ type: 'get_async_request' });
  const [master, slave] = a.packetInMask;
  if ((slave & (1 << OFPR_ACTION)) !== 0) return;
  s.send({ type: 'set_async', packetInMask: [master, slave | (1 << OFPR_ACTION)], portStatusMask: a.portStatusMask, flowRemovedMask: a.flowRemovedMask });
}
