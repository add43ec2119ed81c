// Codec micro-benchmark: packet-in decodes/s and flow-mod encodes/s on one core, plus bytes
// allocated per message. Run: node --import tsx bench/codec.ts  (npm run bench)
//
// Method
// - Throughput: warm up (JIT), then run the operation in a tight loop for a fixed wall time,
//   best of 5 rounds, reported as operations per second on this one thread.
// - Allocation: GC is exposed at run time (v8.setFlagsFromString('--expose-gc')), the heap
//   is collected, then N operations run while a PerformanceObserver counts GCs. With no GC
//   in between, the growth of heapUsed (JS objects) and of arrayBuffers (Buffer backing
//   store, e.g. Node's 8 KiB pool slabs used by Buffer.allocUnsafe) divided by N is the
//   allocation per message. If a GC interrupts, N is halved and the sample retried.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  decode,
  encode,
  OFP_NO_BUFFER,
  OFPCML_NO_BUFFER,
  OFPFC_ADD,
  OFPG_ANY,
  OFPP_ANY,
  OFPR_ACTION,
  type OfMessage,
} from 'openflow-ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// A realistic packet-in: an LLDP probe coming back from a neighbour, in_port match only (~100 bytes).
const lldp = Buffer.from(
  '0180c200000e02000000000188cc0216076470' +
    '69643a30303030303030303030303030303031' +
    '040202310602007800000000000000000000000000000000',
  'hex',
);
const packetIn = encode({
  type: 'packet_in',
  xid: 0,
  bufferId: OFP_NO_BUFFER,
  totalLen: lldp.length,
  reason: OFPR_ACTION,
  tableId: 0,
  cookie: 0n,
  match: [{ field: 'in_port', value: 3 }],
  data: lldp,
});

// A flow-mod as routing emits it: 4 match fields, apply_actions output.
const flowMod: OfMessage = {
  type: 'flow_mod',
  xid: 77,
  cookie: 0x6d657368n,
  cookieMask: 0n,
  tableId: 0,
  command: OFPFC_ADD,
  idleTimeout: 60,
  hardTimeout: 0,
  priority: 100,
  bufferId: OFP_NO_BUFFER,
  outPort: OFPP_ANY,
  outGroup: OFPG_ANY,
  flags: 0,
  match: [
    { field: 'in_port', value: 1 },
    { field: 'eth_type', value: 0x0800 },
    { field: 'ipv4_src', value: '10.0.0.1' },
    { field: 'ipv4_dst', value: '10.0.0.2' },
  ],
  instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: OFPCML_NO_BUFFER }] }],
};

let sink = 0; // keeps results observable so the JIT cannot drop the work

function throughput(label: string, op: () => number): number {
  for (let i = 0; i < 200_000; i++) sink ^= op(); // warm-up
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const batch = 10_000;
    let n = 0;
    const start = process.hrtime.bigint();
    const stop = start + 300_000_000n; // 300 ms per round
    let now = start;
    while (now < stop) {
      for (let i = 0; i < batch; i++) sink ^= op();
      n += batch;
      now = process.hrtime.bigint();
    }
    best = Math.max(best, (n * 1e9) / Number(now - start));
  }
  console.log(`${label.padEnd(28)} ${Math.round(best).toLocaleString('en-US').padStart(12)} ops/s`);
  return best;
}

function allocation(label: string, op: () => number): void {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  let n = 20_000;
  for (let attempt = 0; attempt < 8; attempt++, n >>= 1) {
    gc();
    gc();
    const before = process.memoryUsage();
    gcs = 0;
    for (let i = 0; i < n; i++) sink ^= op();
    const after = process.memoryUsage();
    // PerformanceObserver delivers asynchronously; a GC also shows as a drop in heapUsed.
    if (gcs === 0 && after.heapUsed >= before.heapUsed) {
      const heap = (after.heapUsed - before.heapUsed) / n;
      const ab = (after.arrayBuffers - before.arrayBuffers) / n;
      console.log(`${label.padEnd(28)} ${heap.toFixed(0).padStart(6)} B/msg JS heap + ${ab.toFixed(0).padStart(4)} B/msg Buffer memory (n=${n})`);
      obs.disconnect();
      return;
    }
  }
  obs.disconnect();
  console.log(`${label.padEnd(28)} could not measure without an intervening GC`);
}

const decodePacketIn = (): number => {
  const m = decode(packetIn);
  return m.xid;
};
const encodeFlowMod = (): number => encode(flowMod).length;

console.log(`meshflow OpenFlow codec benchmark — node ${process.version}, one core`);
console.log(`packet-in frame ${packetIn.length} bytes; flow-mod frame ${encode(flowMod).length} bytes\n`);
throughput('packet-in decode', decodePacketIn);
throughput('flow-mod encode', encodeFlowMod);
const flowModBytes = encode(flowMod);
throughput('flow-mod decode', () => decode(flowModBytes).xid);
console.log('');
allocation('packet-in decode', decodePacketIn);
allocation('flow-mod encode', encodeFlowMod);
if (sink === 0.5) console.log(sink);
