// The table-miss entry and its meter: which messages, in which order, for which switch, and that
// each one survives the codec both ways.
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  OFPCML_NO_BUFFER,
  OFPFC_ADD,
  OFPMC_ADD,
  OFPMC_DELETE,
  OFPMF_BURST,
  OFPMF_KBPS,
  OFPMF_PKTPS,
  OFPMF_STATS,
  OFPMBT_DROP,
  OFPMBT_DSCP_REMARK,
  OFPP_CONTROLLER,
  type FlowMod,
  type MeterMod,
  type OfMessage,
} from 'openflow-ts';
import {
  DEFAULT_TABLE_MISS,
  LLDP_METER_ID,
  TABLE_MISS_METER_ID,
  canMeterPacketIns,
  tableMiss,
} from '../../controller/table-miss.ts';
import type { MeterFeatures } from '../../controller/session/requests.ts';
import type { Outgoing } from '../../controller/session.ts';

/** What Open vSwitch 3.1 answers on a netdev bridge (ovs-ofctl meter-features). */
const ovs: MeterFeatures = {
  kind: 'meter_features',
  maxMeter: 262144,
  bandTypes: 1 << OFPMBT_DROP,
  capabilities: OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS,
  maxBands: 8,
  maxColor: 0,
};

const toController = { type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: OFPCML_NO_BUFFER }] };

function flows(msgs: readonly Outgoing[]): Omit<FlowMod, 'xid'>[] {
  return msgs.filter((m): m is Omit<FlowMod, 'xid'> => m.type === 'flow_mod');
}
function meterMods(msgs: readonly Outgoing[]): Omit<MeterMod, 'xid'>[] {
  return msgs.filter((m): m is Omit<MeterMod, 'xid'> => m.type === 'meter_mod');
}

describe('tableMiss', () => {
  it('without meters: one unmetered table-miss entry, priority 0, empty match, whole packets to the controller', () => {
    for (const features of [undefined, { ...ovs, maxMeter: 0 }]) {
      const msgs = tableMiss(features, DEFAULT_TABLE_MISS);
      assert.equal(msgs.length, 1);
      const [f] = flows(msgs);
      assert.ok(f);
      assert.equal(f.command, OFPFC_ADD);
      assert.equal(f.priority, 0);
      assert.equal(f.tableId, 0);
      assert.deepEqual(f.match, []);
      assert.deepEqual(f.instructions, [toController]);
    }
  });

  it('with a meter rate of 0: no meter even on a switch that has them', () => {
    const msgs = tableMiss(ovs, { meterRate: 0, meterBurst: 0 });
    assert.deepEqual(meterMods(msgs), []);
    assert.deepEqual(flows(msgs)[0]?.instructions, [toController]);
  });

  it('on Open vSwitch: replaces meters 1 and 2 (delete, then add: a reconnecting switch keeps its meters), then the flows that use them', () => {
    const msgs = tableMiss(ovs, { meterRate: 500, meterBurst: 250 });
    assert.deepEqual(
      msgs.map((m) => (m.type === 'meter_mod' ? `meter ${m.command === OFPMC_DELETE ? 'delete' : 'add'} ${m.meterId}` : `flow ${m.type === 'flow_mod' ? m.priority : '?'}`)),
      ['meter delete 1', 'meter add 1', 'meter delete 2', 'meter add 2', 'flow 1', 'flow 0'],
    );
    for (const m of meterMods(msgs).filter((x) => x.command === OFPMC_ADD)) {
      assert.equal(m.flags, OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS);
      assert.deepEqual(m.bands, [{ type: 'drop', rate: 500, burstSize: 250 }]);
    }
    const [lldp, miss] = flows(msgs);
    assert.deepEqual(lldp?.match, [{ field: 'eth_type', value: 0x88cc }]);
    assert.deepEqual(lldp?.instructions, [{ type: 'meter', meterId: LLDP_METER_ID }, toController]);
    assert.equal(miss?.priority, 0);
    assert.deepEqual(miss?.match, []);
    assert.deepEqual(miss?.instructions, [{ type: 'meter', meterId: TABLE_MISS_METER_ID }, toController]);
  });

  it('leaves out what the switch cannot do: no burst flag without burst, no stats flag without stats', () => {
    const plain = { ...ovs, capabilities: OFPMF_PKTPS };
    const add = meterMods(tableMiss(plain, { meterRate: 100, meterBurst: 50 })).find((m) => m.command === OFPMC_ADD);
    assert.equal(add?.flags, OFPMF_PKTPS);
    assert.deepEqual(add?.bands, [{ type: 'drop', rate: 100, burstSize: 0 }]);
  });

  it('meters only a switch with packets-per-second drop bands and room for two meters', () => {
    assert.equal(canMeterPacketIns(ovs), true);
    assert.equal(canMeterPacketIns(undefined), false);
    assert.equal(canMeterPacketIns({ ...ovs, capabilities: OFPMF_KBPS | OFPMF_BURST }), false, 'kbps only');
    assert.equal(canMeterPacketIns({ ...ovs, bandTypes: 1 << OFPMBT_DSCP_REMARK }), false, 'no drop band');
    assert.equal(canMeterPacketIns({ ...ovs, maxMeter: 1 }), false, 'one meter');
    assert.equal(canMeterPacketIns({ ...ovs, maxBands: 0 }), false, 'no bands');
    assert.equal(flows(tableMiss({ ...ovs, capabilities: OFPMF_KBPS }, DEFAULT_TABLE_MISS)).length, 1);
  });

  it('encodes and decodes every message unchanged', () => {
    for (const features of [undefined, ovs]) {
      tableMiss(features, DEFAULT_TABLE_MISS).forEach((m, i) => {
        const msg = { ...m, xid: 100 + i } as OfMessage;
        const bytes = encode(msg);
        assert.deepStrictEqual(decode(bytes), msg);
        assert.deepStrictEqual(encode(decode(bytes)), bytes);
      });
    }
  });
});
