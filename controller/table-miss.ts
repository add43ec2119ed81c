// The table-miss entry a switch gets at its handshake (whatever no rule claims goes to the
// controller, whole), and, where the switch has packets-per-second meters with a drop band, a
// meter on it so the switch itself limits packet-ins and a storm is shed before it costs a socket
// read. Pure: the switch's meter features and the settings in, the messages to send out.
//
// What Open vSwitch 3.1's userspace datapath (netdev bridges) does, tried by hand with ovs-ofctl:
// - meter-features: max_meter 262144, max_bands 8, band types: drop, capabilities kbps pktps burst
//   stats (no dscp_remark).
// - A pktps meter with a drop band on the table-miss flow (actions=meter:1,CONTROLLER:65535) does
//   limit packet-ins: 50,000 ARP frames with new source MACs in 0.3 s, meter rate 100 burst 100,
//   gave 129 packet-ins to the controller and 34,429 packets counted by the band in meter-stats.
// - METER_MOD ADD of a meter that exists fails with OFPMMFC_METER_EXISTS (a reconnecting switch
//   keeps its meters); DELETE of a meter that does not exist succeeds silently; deleting a meter
//   deletes the flows that use it. Hence delete-then-add below, ahead of the flow-mods, in one batch.
// - It also accepts the special controller meter (meter=controller, OFPM_CONTROLLER), which would
//   meter every packet-in including LLDP; a meter of our own on the table-miss entry keeps
//   discovery out of the storm's way.
import {
  flowMod,
  OFPCML_NO_BUFFER,
  OFPMBT_DROP,
  OFPMC_ADD,
  OFPMC_DELETE,
  OFPMF_BURST,
  OFPMF_PKTPS,
  OFPMF_STATS,
  OFPP_CONTROLLER,
} from 'openflow-ts';
import type { Instruction } from 'openflow-ts';
import { ETH_TYPE_LLDP } from './packet/index.ts';
import type { Unnumbered as Outgoing } from 'openflow-ts';
import type { MeterFeatures } from './session/requests.ts';


export interface TableMissSettings {
  /** Packet-ins per second the switch lets through on the table-miss entry; 0: no meter. */
  readonly meterRate: number;
  /** Packets the meter lets through at once above its rate (used where the switch supports burst). */
  readonly meterBurst: number;
}

/**
 * Half the controller's default admission of 2,000/s per switch (LLDP has a bucket of its own
 * there, as here a meter of its own): a metered switch's packet-ins pass admission untouched, and
 * the switch, not the controller's socket, is what sheds a storm.
 */
export const DEFAULT_TABLE_MISS: TableMissSettings = { meterRate: 1000, meterBurst: 1000 };

/** Meter ids this module owns on every switch. */
export const TABLE_MISS_METER_ID = 1;
export const LLDP_METER_ID = 2;
/** Above the table-miss entry, below every forwarding and intent rule. */
export const LLDP_PRIORITY = 1;

const toController: Instruction = { type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: OFPCML_NO_BUFFER }] };

/** True when the switch can drop above a packets-per-second rate on meters 1 and 2. */
export function canMeterPacketIns(f: MeterFeatures | undefined): f is MeterFeatures {
  return (
    f !== undefined &&
    f.maxMeter >= LLDP_METER_ID &&
    f.maxBands >= 1 &&
    (f.capabilities & OFPMF_PKTPS) !== 0 &&
    (f.bandTypes & (1 << OFPMBT_DROP)) !== 0
  );
}

/**
 * The messages that install the table-miss entry, in order. With a meter: delete and add meters 1
 * (table-miss) and 2 (LLDP), an LLDP entry to the controller on meter 2, then the table-miss entry on
 * meter 1. Without: the table-miss entry alone, unmetered.
 */
export function tableMiss(meters: MeterFeatures | undefined, settings: TableMissSettings = DEFAULT_TABLE_MISS): Outgoing[] {
  const rate = Math.floor(settings.meterRate);
  if (rate <= 0 || !canMeterPacketIns(meters)) {
    return [flowMod({ priority: 0, match: [], instructions: [toController] })];
  }
  const burst = (meters.capabilities & OFPMF_BURST) !== 0;
  const flags = OFPMF_PKTPS | (burst ? OFPMF_BURST : 0) | ((meters.capabilities & OFPMF_STATS) !== 0 ? OFPMF_STATS : 0);
  const band = { type: 'drop', rate, burstSize: burst ? Math.max(1, Math.floor(settings.meterBurst)) : 0 } as const;
  const meter = (meterId: number): Outgoing[] => [
    { type: 'meter_mod', command: OFPMC_DELETE, flags: 0, meterId, bands: [] },
    { type: 'meter_mod', command: OFPMC_ADD, flags, meterId, bands: [band] },
  ];
  return [
    ...meter(TABLE_MISS_METER_ID),
    ...meter(LLDP_METER_ID),
    flowMod({
      priority: LLDP_PRIORITY,
      match: [{ field: 'eth_type', value: ETH_TYPE_LLDP }],
      instructions: [{ type: 'meter', meterId: LLDP_METER_ID }, toController],
    }),
    flowMod({ priority: 0, match: [], instructions: [{ type: 'meter', meterId: TABLE_MISS_METER_ID }, toController] }),
  ];
}
