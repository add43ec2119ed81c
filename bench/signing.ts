// What signing costs per hint: publish side (stamp + sign + validate + serialize) and consumer
// side (verify + parse + validate), for a link state and for a k=16 fat-tree cost row (127
// destinations, ~11 KiB), against the same work unsigned.
// Run: node --import tsx bench/signing.ts
import { generateKeyPairSync } from 'node:crypto';
import { costColumns, type CostEntry, type HintBody } from '../bus/hints.ts';
import { parseHint } from '../bus/parse.ts';
import { HintPublisher, type PublishClient } from '../bus/publisher.ts';
import { HintSigner, StaticTrust } from '../bus/signing.ts';
import { routeOf } from '../bus/topics.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = new HintSigner('controller', privateKey);
const trust = new StaticTrust([['controller', publicKey]]);

let last = '';
const client: PublishClient = { publishAsync: async (_t: string, m: string | Buffer) => void (last = String(m)) } as PublishClient;
const signed = new HintPublisher(client, { source: 'bench', signer });
const plain = new HintPublisher(client, { source: 'bench' });

const entry = (i: number): CostEntry => ({
  dstPid: (i + 1).toString(16).padStart(16, '0'),
  hops: 4,
  paths: 4,
  bottleneckUtilization: 0.42,
  availableBps: 580_000_000,
  worstUtilization: 0.61,
  worstAvailableBps: 390_000_000,
  aggregateBps: 2_100_000_000,
  level: 'ok',
  worstLevel: 'warning',
});
const bodies: Record<string, HintBody> = {
  link_state: {
    kind: 'link_state',
    linkId: '0000000000000001:1-0000000000000002:1',
    src: { dpid: '0000000000000001', port: 1 },
    dst: { dpid: '0000000000000002', port: 1 },
    capacityBps: 1e9,
    rateBps: 420_000_000,
    utilization: 0.42,
    drops: 0,
    level: 'ok',
  },
  'cost_row k=16': { kind: 'cost_row', srcPid: '00000000000000ff', costs: costColumns(Array.from({ length: 127 }, (_, i) => entry(i))) },
};

function perOp(n: number, f: () => void): number {
  for (let i = 0; i < Math.min(200, n); i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

console.log('hint             bytes   publish µs (plain → signed)   consume µs (plain → verified)');
for (const [name, body] of Object.entries(bodies)) {
  const n = name.startsWith('cost') ? 2000 : 20_000;
  const pubPlain = perOp(n, () => void plain.send(body));
  const plainPayload = last;
  const pubSigned = perOp(n, () => void signed.send(body));
  const signedPayload = last;
  const topic = routeOf(JSON.parse(signedPayload)).topic;
  const conPlain = perOp(n, () => void parseHint(plainPayload, { topic }));
  const conSigned = perOp(n, () => {
    const r = parseHint(signedPayload, { topic, trust });
    if (!r.ok) throw new Error(r.error.message);
  });
  console.log(
    `${name.padEnd(16)} ${String(signedPayload.length).padStart(6)}   ${pubPlain.toFixed(1).padStart(8)} → ${pubSigned.toFixed(1).padEnd(16)}   ${conPlain.toFixed(1).padStart(8)} → ${conSigned.toFixed(1)}`,
  );
}
