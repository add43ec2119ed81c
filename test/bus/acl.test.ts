import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mayPublish, maySubscribe, type Principal } from '../../bus/auth/acl.ts';
import { mosquittoHash, renderAclFile, renderSharedAclFile } from '../../bus/auth/mosquitto.ts';
import { topics, ALL_HINTS } from '../../bus/topics.ts';

const ctl: Principal = { username: 'ctl-1', role: 'controller' };
const bridge: Principal = { username: 'bridge', role: 'bridge' };
const sidecar: Principal = { username: 'sc-h1', role: 'sidecar' };
const reader: Principal = { username: 'reader', role: 'reader' };

describe('bus ACL', () => {
  const cases: Array<[Principal, string, boolean]> = [
    [ctl, topics.link('a-b'), true],
    [ctl, topics.costs('edge-s1'), true],
    [ctl, topics.events(), true],
    [ctl, topics.controller('ctl-1'), true],
    [ctl, topics.controller('ctl-2'), false],
    [ctl, topics.weights('sc-h1'), false],
    [bridge, topics.weights('sc-h1'), true],
    [bridge, topics.costs('edge-s1'), false],
    // arbiter_decision events (added for the arbiter)
    [bridge, topics.events(), true],
    [bridge, topics.controller('bridge'), false],
    [sidecar, topics.status('sc-h1'), true],
    [sidecar, topics.status('sc-h2'), false],
    [sidecar, topics.weights('sc-h1'), false],
    [sidecar, topics.costs('edge-s1'), false],
    [sidecar, topics.controller('ctl-1'), false],
    [reader, topics.events(), false],
    [reader, topics.status('reader'), false],
    [ctl, 'other/topic', false],
    [ctl, `${topics.link('a-b')}/deeper`, false],
  ];
  for (const [who, topic, allowed] of cases) {
    it(`${who.role} ${who.username} ${allowed ? 'may' : 'may not'} publish ${topic}`, () => {
      assert.equal(mayPublish(who, topic), allowed);
    });
  }

  it('lets everyone subscribe under meshflow/v1/ only', () => {
    assert.equal(maySubscribe(reader, ALL_HINTS), true);
    assert.equal(maySubscribe(sidecar, topics.weights('sc-h1')), true);
    assert.equal(maySubscribe(reader, '#'), false);
    assert.equal(maySubscribe(reader, '+/v1/#'), false);
    assert.equal(maySubscribe(reader, '$SYS/#'), false);
  });
});

describe('Mosquitto files', () => {
  it('hashes passwords the way mosquitto_passwd does ($7$, PBKDF2-SHA512)', () => {
    // Written by mosquitto_passwd 2.0.11 for password "s3cret".
    const expected =
      '$7$101$KB3Q/P4D4GT/MxRH$7DxHqpQAFaVQEAFuLKTEDTeyRqyO6/32E3QYWZGnPnfQYIn70yIFmQoBMpaja9wcEz4MNYinVQENz7XOpVhexw==';
    assert.equal(mosquittoHash('s3cret', Buffer.from('KB3Q/P4D4GT/MxRH', 'base64')), expected);
  });

  it('ships bus/mosquitto/acl as rendered from the ACL table', async () => {
    const shipped = await readFile(new URL('../../bus/mosquitto/acl', import.meta.url), 'utf8');
    assert.equal(shipped, renderSharedAclFile());
  });

  it('renders one user block per account, with its own status topic', () => {
    const text = renderAclFile([
      { username: 'ctl-1', role: 'controller' },
      { username: 'sc-h1', role: 'sidecar' },
      { username: 'reader', role: 'reader' },
    ]);
    assert.match(text, /user ctl-1\ntopic write meshflow\/v1\/links\/\+\n.*\ntopic write meshflow\/v1\/events\ntopic write meshflow\/v1\/controllers\/ctl-1\/status/);
    assert.match(text, /user sc-h1\ntopic write meshflow\/v1\/sidecars\/sc-h1\/status\n/);
    assert.match(text, /user reader\n?$/);
    assert.match(text, /^pattern read meshflow\/v1\/#$/m);
  });
});
