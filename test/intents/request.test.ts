// Request bodies: what the bridge sends is accepted; every refusal names its field.
import assert from 'node:assert/strict';
import { isIpv4, isMac } from '../../controller/packet/index.ts';
import { parseIntentRequest, type RequestContext } from '../../controller/intents/request.ts';
import { diamondLinks, H1, H3, HOSTS, S1, S2, S3, S4 } from './fixture.ts';

const names = new Map([['h1', H1.mac], ['h3', H3.mac]]);
const CTX: RequestContext = {
  findHost: (t) => {
    const mac = names.get(t) ?? t;
    return HOSTS.get(mac) ?? [...HOSTS.values()].find((h) => h.ipv4 === t);
  },
  isHostSyntax: (t) => isIpv4(t) || isMac(t) || /^[a-z][a-z0-9._-]*$/.test(t),
  links: diamondLinks(),
  switches: new Set([S1, S2, S3, S4]),
};

function refusal(body: unknown): string {
  const r = parseIntentRequest(body, CTX);
  assert.ok(!r.ok, `accepted ${JSON.stringify(body)}`);
  return r.message;
}

describe('intents: request bodies', () => {
  it('accepts what the mesh bridge sends, and marks high priority as EF', () => {
    const r = parseIntentRequest({ src: 'h1', dst: 'h3', policy: 'least-congested', ipProto: 6, dstPort: 5201, priority: 'high' }, CTX);
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.deepEqual(r.spec.traffic, { srcIp: H1.ipv4, dstIp: H3.ipv4, ipProto: 6, dstPort: 5201 });
    assert.equal(r.spec.dscp, 46);
    assert.deepEqual(r.spec.policy, { name: 'least-congested' });
  });

  it('resolves hosts by name, address or MAC, and dpids written short', () => {
    const r = parseIntentRequest({ src: H1.ipv4, dst: H3.mac, policy: 'explicit', path: ['1', '0x3', S4], dscp: 10 }, CTX);
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.deepEqual(r.spec.policy, { name: 'explicit', switches: [S1, S3, S4] });
    assert.equal(r.spec.dscp, 10);
    const a = parseIntentRequest({ src: 'h1', dst: 'h3', policy: 'avoid', avoidLinks: [`${S1}:3-${S2}:1`, '3-4'] }, CTX);
    assert.ok(a.ok, a.ok ? '' : a.message);
    assert.deepEqual(a.spec.policy, { name: 'avoid', avoid: [{ kind: 'link', id: `${S1}:3-${S2}:1` }, { kind: 'switches', a: S3, b: S4 }] });
  });

  it('refuses bad bodies with a message that names the field', () => {
    const base = { src: 'h1', dst: 'h3', policy: 'shortest' };
    const cases: [unknown, string | RegExp][] = [
      [{ ...base, ipProto: 6, dstPort: 70000 }, '/dstPort: must be <= 65535'],
      [{ ...base, ipProto: 6, dstPort: '5201' }, '/dstPort: must be integer'],
      [{ ...base, dst: 'h9' }, /^\/dst: unknown host "h9"/],
      [{ ...base, src: '10.0.0.300' }, /^\/src: .* is neither a host name/],
      [{ src: 'h1', dst: 'h3' }, '/policy: is required'],
      [{ ...base, policy: 'fastest' }, '/policy: must be one of shortest, least-congested, avoid, explicit'],
      [{ ...base, ipProto: 2 }, '/ipProto: must be one of 1, 6, 17'],
      [{ ...base, colour: 'red' }, '/colour: is not a field of an intent'],
      [{ ...base, dstPort: 80 }, /^\/ipProto: is required with srcPort or dstPort/],
      [{ ...base, ipProto: 1, srcPort: 80 }, /^\/srcPort: only with ipProto 6/],
      [{ ...base, dst: 'h1' }, '/dst: is the same host as src'],
      [{ ...base, policy: 'avoid' }, '/avoidLinks: is required with policy "avoid"'],
      [{ ...base, avoidLinks: ['1-2'] }, '/avoidLinks: only with policy "avoid"'],
      [{ ...base, policy: 'avoid', avoidLinks: ['1:3-2'] }, '/avoidLinks/0: give both ports (a link id) or neither (a switch pair)'],
      [{ ...base, policy: 'avoid', avoidLinks: ['2-3'] }, `/avoidLinks/0: no link between ${S2} and ${S3} is known`],
      [{ ...base, policy: 'avoid', avoidLinks: ['s1-s2'] }, /^\/avoidLinks\/0: must be a link id/],
      [{ ...base, policy: 'explicit' }, '/path: is required with policy "explicit"'],
      [{ ...base, policy: 'explicit', path: ['1', '9', '4'] }, `/path/1: no switch ${'9'.padStart(16, '0')} is connected`],
      [{ ...base, policy: 'explicit', path: [] }, '/path: must NOT have fewer than 1 items'],
      [{ ...base, priority: 'high', dscp: 46 }, '/dscp: give either priority or dscp, not both'],
      [{ ...base, dscp: 64 }, '/dscp: must be <= 63'],
      [[], '/: must be object'],
    ];
    for (const [body, message] of cases) {
      const got = refusal(body);
      if (typeof message === 'string') assert.equal(got, message, JSON.stringify(body));
      else assert.match(got, message, JSON.stringify(body));
    }
  });
});
