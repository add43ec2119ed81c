// The OpenFlow listener's decisions without sockets: who gets a connection slot, when a datapath id
// may be taken over, and the flags that set the limits and TLS files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admitConnection, checkListenerLimits, DEFAULT_LISTENER_LIMITS, maxConnectionsFor, takeoverRule } from '../../controller/listener-limits.ts';
import { openFlowGuard, type OpenFlowGuardFlags } from '../../cli/openflow-flags.ts';

describe('OpenFlow listener limits', () => {
  const limits = { ...DEFAULT_LISTENER_LIMITS, maxConnections: 10, maxUnready: 3 };

  it('accepts while there is room', () => {
    assert.equal(admitConnection(0, 0, limits), 'accept');
    assert.equal(admitConnection(9, 2, limits), 'accept');
  });

  it('closes the oldest unready connection once the unready slots are full, even with room overall', () => {
    assert.equal(admitConnection(3, 3, limits), 'evict_oldest_unready');
  });

  it('makes room from unready connections when every slot is taken, and refuses when ready switches hold them all', () => {
    assert.equal(admitConnection(10, 1, limits), 'evict_oldest_unready');
    assert.equal(admitConnection(10, 0, limits), 'refuse');
  });

  it('leaves half of the file descriptors to the rest of the process', () => {
    assert.equal(maxConnectionsFor(1024), 512);
    assert.equal(maxConnectionsFor(1_048_576), 4096);
    assert.equal(maxConnectionsFor(100), 64);
    assert.equal(maxConnectionsFor(undefined), 4096);
    assert.ok(DEFAULT_LISTENER_LIMITS.maxConnections <= 4096 && DEFAULT_LISTENER_LIMITS.maxConnections >= DEFAULT_LISTENER_LIMITS.maxUnready);
  });

  it('names the limit at fault', () => {
    assert.throws(() => checkListenerLimits({ ...limits, maxUnready: 11 }), /maxUnready \(11\) cannot exceed maxConnections \(10\)/);
    assert.throws(() => checkListenerLimits({ ...limits, handshakeTimeoutMs: 5 }), /handshakeTimeoutMs/);
    assert.throws(() => checkListenerLimits({ ...limits, maxConnections: 0 }), /maxConnections/);
  });
});

describe('OpenFlow takeover rule', () => {
  const a = { fingerprint: 'AA:01', commonName: 'sw id:1' };
  const b = { fingerprint: 'BB:02', commonName: 'sw id:1' };

  it('lets the same certificate take over at once', () => {
    assert.equal(takeoverRule(a, { ...a }), 'same_certificate');
  });

  it('asks the connected session first in every other case: another certificate (even with the same subject), or plain TCP', () => {
    assert.equal(takeoverRule(a, b), 'check_liveness');
    assert.equal(takeoverRule(undefined, a), 'check_liveness');
    assert.equal(takeoverRule(a, undefined), 'check_liveness');
    assert.equal(takeoverRule(undefined, undefined), 'check_liveness');
  });
});

describe('OpenFlow guard flags', () => {
  const base: OpenFlowGuardFlags = { ofMaxConnections: 100, ofMaxUnready: 10, ofHandshakeTimeout: 5000 };
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mf-offlags-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the limits, and no TLS without the TLS flags', () => {
    assert.deepEqual(openFlowGuard(base), { ofLimits: { maxConnections: 100, maxUnready: 10, handshakeTimeoutMs: 5000 } });
  });

  it('refuses an unready limit above the connection limit, naming both flags (exit 2)', () => {
    assert.throws(() => openFlowGuard({ ...base, ofMaxUnready: 200 }), (e: Error & { exitCode?: number }) => /--of-max-unready \(200\) cannot exceed --of-max-connections \(100\)/.test(e.message) && e.exitCode === 2);
  });

  it('wants the three TLS files together, and names the one missing or unreadable', () => {
    assert.throws(() => openFlowGuard({ ...base, ofTlsKey: 'k.pem' }), /--of-tls-cert, --of-tls-ca missing/);
    assert.throws(
      () => openFlowGuard({ ...base, ofTlsKey: join(dir, 'none.pem'), ofTlsCert: join(dir, 'none.pem'), ofTlsCa: join(dir, 'none.pem') }),
      (e: Error & { exitCode?: number }) => /\(--of-tls-key\): no such file/.test(e.message) && e.exitCode === 2,
    );
  });

  it('refuses files that do not make a TLS identity', () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a PEM');
    assert.throws(() => openFlowGuard({ ...base, ofTlsKey: junk, ofTlsCert: junk, ofTlsCa: junk }), /do not make a TLS identity/);
  });
});
