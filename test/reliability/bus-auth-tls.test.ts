// mqtts:// on both brokers: a client with the CA file connects; plain MQTT on a TLS port and a
// client that does not trust the certificate are refused.
import assert from 'node:assert/strict';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { connectBus } from '../../bus/client.ts';
import { newAccount } from '../../bus/auth/accounts.ts';
import { renderPasswordFile } from '../../bus/auth/mosquitto.ts';
import { makeTestPki, type TestPki } from '../bus/certs.ts';
import { startMosquittoWith, type Mosquitto } from '../bus/mosquitto.ts';

const reader = newAccount('reader', 'reader');

describe('bus over TLS', function () {
  this.timeout(20_000);
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => pki?.remove());

  describe('embedded broker', () => {
    let broker: EmbeddedBroker;
    before(async () => {
      broker = await startBroker({ port: 0, auth: { accounts: [reader] }, tls: { cert: pki.cert, key: pki.key } });
    });
    after(async () => {
      await broker?.stop();
    });

    it('serves mqtts:// to a client that has the CA', async () => {
      assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const c = await connectBus(broker.urlFor('reader'), { caFile: pki.caFile });
      assert.ok(c.connected);
      await c.endAsync();
    });

    it('refuses plain MQTT on its port, and counts the failed handshake', async () => {
      const before = broker.refusals.snapshot().tls_handshake;
      await assert.rejects(connectBus(broker.urlFor('reader').replace('mqtts://', 'mqtt://'), { connectTimeoutMs: 3000 }));
      assert.equal(broker.refusals.snapshot().tls_handshake - before, 1);
    });

    it('is refused by a client that does not trust its certificate', async () => {
      await assert.rejects(connectBus(broker.urlFor('reader'), { connectTimeoutMs: 3000 }), /self[- ]signed|unable to verify|certificate/i);
    });

    it('still wants credentials over TLS', async () => {
      await assert.rejects(connectBus(broker.url, { caFile: pki.caFile }), /Not authorized/i);
    });
  });

  describe('mosquitto', () => {
    let m: Mosquitto;
    before(async () => {
      m = await startMosquittoWith({
        files: { passwd: renderPasswordFile([reader]), 'ca.crt': pki.ca, 'server.crt': pki.cert, 'server.key': pki.key },
        lines: [
          'listener %PORT% 127.0.0.1',
          'allow_anonymous false',
          'password_file %DIR%/passwd',
          'certfile %DIR%/server.crt',
          'keyfile %DIR%/server.key',
        ],
      });
    });
    after(async () => {
      await m?.stop();
    });

    it('serves mqtts:// to a client that has the CA, and refuses plain MQTT', async () => {
      const c = await connectBus(`mqtts://127.0.0.1:${m.port}`, { caFile: pki.caFile, username: 'reader', password: reader.password });
      assert.ok(c.connected);
      await c.endAsync();
      await assert.rejects(connectBus(`mqtt://127.0.0.1:${m.port}`, { username: 'reader', password: reader.password, connectTimeoutMs: 3000 }));
    });
  });
});
