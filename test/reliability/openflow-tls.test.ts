// OpenFlow over TLS against a real Open vSwitch bridge: certificates from ovs-pki (a PKI made in a
// temp dir), the bridge on an `ssl:` controller target, client certificates required. Plain TCP,
// no certificate or one from another CA never becomes a switch; a second certificate claiming a
// connected datapath id is refused while the switch answers; the switch's own certificate takes
// its datapath id over at once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runController, type RunningController } from '../../controller/run.ts';
import { FakeSwitch } from '../../bench/attack/fake-switch.ts';
import { closeAll, idleFlood, impersonate } from '../../bench/attack/openflow.ts';
import { TestBridge, cleanStale, sh, vsctl } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';

interface Identity {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer;
}

describe('reliability: OpenFlow over TLS with a real Open vSwitch bridge', function () {
  this.timeout(60_000);
  let dir: string;
  let running: RunningController;
  let bridge: TestBridge;
  let dpid: string;
  /** The system's SSL settings before ours (Open vSwitch has one set for every bridge). */
  let previousSsl: string;
  const fakes: FakeSwitch[] = [];
  const pem = (name: string): Buffer => readFileSync(join(dir, name));
  /** A TLS client identity from the PKI: `name`-privkey.pem and `name`-cert.pem, trusting the controller CA. */
  const identity = (name: string): Identity => ({ key: pem(`${name}-privkey.pem`), cert: pem(`${name}-cert.pem`), ca: pem('pki/controllerca/cacert.pem') });

  before(async () => {
    await cleanStale();
    dir = mkdtempSync(join(tmpdir(), 'mf-oftls-'));
    const pki = (...args: string[]): Promise<string> => sh('sh', ['-c', `cd ${dir} && ovs-pki --dir=${dir}/pki --log=${dir}/pki.log ${args.join(' ')}`]);
    await pki('init');
    await pki('req+sign', 'ctl', 'controller');
    await pki('req+sign', 'sw', 'switch');
    // A second switch certificate, and one signed by the other CA.
    await pki('req+sign', 'other', 'switch');
    running = await runController({
      ofPort: 0,
      apiPort: 0,
      echoIntervalMs: 1000,
      probeIntervalMs: 0,
      ofTls: { key: join(dir, 'ctl-privkey.pem'), cert: join(dir, 'ctl-cert.pem'), ca: join(dir, 'pki/switchca/cacert.pem') },
      ofLimits: { livenessTimeoutMs: 500 },
    });
    previousSsl = (await vsctl('get-ssl')).trim();
    await vsctl('set-ssl', join(dir, 'sw-privkey.pem'), join(dir, 'sw-cert.pem'), join(dir, 'pki/controllerca/cacert.pem'));
    // Made against a closed port first, so that no plain TCP attempt reaches the TLS port by accident.
    bridge = await TestBridge.create({ controllerPort: 9, hosts: 1 });
    await vsctl('set-controller', bridge.name, `ssl:127.0.0.1:${running.ofPort}`, '--', 'set', 'controller', bridge.name, 'max_backoff=1000');
    dpid = await bridge.dpid();
  });

  after(async () => {
    for (const f of fakes.splice(0)) f.end();
    await bridge?.destroy();
    // Ours only: another run's settings are not ours to remove.
    if ((await vsctl('get-ssl')).includes(dir) && previousSsl === '') await vsctl('del-ssl');
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes a working session with the bridge over TLS, and knows its certificate', async () => {
    const s = await waitFor('the bridge to finish the handshake over TLS', () => running.controller.switches.get(dpid));
    assert.equal(s.state, 'ready');
    const ports = await s.portDescriptions();
    assert.ok(ports.some((p) => p.portNo === 1), 'the host port, through the session');
    const peer = running.controller.peerOf(s);
    assert.match(peer?.commonName ?? '', /^sw id:/);
    assert.equal(peer?.fingerprint, new (await import('node:crypto')).X509Certificate(pem('sw-cert.pem')).fingerprint256);
  });

  it('lets the bridge back in through 200 idle connections held against the TLS port', async () => {
    const s = await waitFor('the bridge', () => running.controller.switches.get(dpid));
    const before = running.controller.refused.unreadyEvicted;
    const idle = await idleFlood({ port: running.ofPort }, 200);
    try {
      // The bridge reconnects (its backoff is 1 s) into a port whose unready slots the flood holds.
      s.destroy('test: make the bridge reconnect');
      const back = await waitFor('the bridge to be back over TLS', () => {
        const now = running.controller.switches.get(dpid);
        return now !== undefined && now !== s ? now : undefined;
      });
      assert.equal(back.state, 'ready');
      const limits = running.controller.limits;
      assert.ok(running.controller.refused.unreadyEvicted - before >= 200 - limits.maxUnready + 1, `evicted ${running.controller.refused.unreadyEvicted - before}`);
    } finally {
      closeAll(idle);
    }
  });

  it('refuses plain TCP, a client without a certificate, and a certificate from another CA, and counts them', async () => {
    await waitFor('the bridge', () => running.controller.switches.get(dpid));
    const before = running.controller.refused.tlsFailure;
    const plain = new FakeSwitch({ port: running.ofPort, dpid: 0xf1n });
    const noCert = new FakeSwitch({ port: running.ofPort, dpid: 0xf2n, tls: { ca: identity('sw').ca } });
    // The controller's own certificate: signed by the controller CA, not the switch CA.
    const wrongCa = new FakeSwitch({ port: running.ofPort, dpid: 0xf3n, tls: identity('ctl') });
    fakes.push(plain, noCert, wrongCa);
    await Promise.all([plain.closed, noCert.closed, wrongCa.closed]);
    await waitFor('three TLS failures counted', () => running.controller.refused.tlsFailure - before >= 3);
    assert.equal(running.controller.switches.size, 1, 'none of them became a switch');
    const text = await (await fetch(`${running.apiUrl}/metrics`)).text();
    assert.match(text, /meshflow_openflow_refused_total\{cause="tls_failure"\} [3-9]/);
  });

  it('refuses another certificate that claims the bridge\'s datapath id while the bridge answers', async () => {
    const s = await waitFor('the bridge', () => running.controller.switches.get(dpid));
    const attempt = await impersonate({ port: running.ofPort, tls: identity('other') }, BigInt(`0x${dpid}`), 10_000);
    fakes.push(attempt.fake);
    assert.ok(attempt.handshaken && attempt.closedByController, 'refused after its handshake');
    assert.equal(running.controller.switches.get(dpid), s, 'the bridge keeps its session');
    assert.equal(running.controller.refused.takeoverRefused, 1);
  });

  it('lets the switch\'s own certificate take its datapath id over at once, as switch_down then switch_up', async () => {
    const s = await waitFor('the bridge', () => running.controller.switches.get(dpid));
    const downs: string[] = [];
    running.controller.on('switch_down', (d, reason) => d.dpid === dpid && downs.push(reason));
    const same = new FakeSwitch({ port: running.ofPort, dpid: BigInt(`0x${dpid}`), tls: identity('sw') });
    fakes.push(same);
    const taken = await waitFor('the newcomer to hold the datapath id', () => {
      const now = running.controller.switches.get(dpid);
      return now !== s ? now : undefined;
    });
    assert.equal(s.state, 'closed');
    assert.equal(downs[0], 'replaced: the same switch certificate connected again');
    assert.equal(running.controller.counters.replaced, 1);
    // The bridge reconnects (its backoff is 1 s) with the same certificate, and holds its id again.
    same.end();
    await waitFor('the bridge to be back', () => {
      const now = running.controller.switches.get(dpid);
      return now !== undefined && now !== taken && now !== s;
    });
  });
});
