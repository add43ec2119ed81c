// connectBus with several brokers and with credentials from a users file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { brokerUrls, connectBus } from '../../bus/client.ts';
import { openStateDir } from '../../bus/auth/accounts.ts';
import { freePort } from '../../labs/ports.ts';

describe('bus client: broker lists and credentials', () => {
  let broker: EmbeddedBroker;
  let dir: string;
  let usersFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshflow-client-'));
    usersFile = openStateDir(dir).usersFile;
    broker = await startBroker({ port: 0, auth: { usersFile } });
  });
  after(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('splits comma lists and refuses what is not an MQTT URL', () => {
    assert.deepEqual(brokerUrls('mqtt://a:1, mqtts://b:2'), ['mqtt://a:1', 'mqtts://b:2']);
    assert.deepEqual(brokerUrls(['mqtt://a:1', 'mqtt://b:2,mqtt://c:3']), ['mqtt://a:1', 'mqtt://b:2', 'mqtt://c:3']);
    assert.throws(() => brokerUrls('http://a:1'), /not an MQTT URL/);
    assert.throws(() => brokerUrls(' , '), /no broker URL/);
  });

  it('skips a broker that is down and connects to the next', async () => {
    const down = `mqtt://127.0.0.1:${await freePort()}`;
    const c = await connectBus(`${down},${broker.url}`, { username: 'reader', credentialsFile: usersFile });
    try {
      assert.equal(c.options.port, broker.port);
    } finally {
      await c.endAsync();
    }
  });

  it('fails once every broker has been tried', async () => {
    const [a, b] = [await freePort(), await freePort()];
    await assert.rejects(connectBus(`mqtt://127.0.0.1:${a},mqtt://127.0.0.1:${b}`, { backoff: { initialMs: 10 } }), /ECONNREFUSED|no broker answered/);
  });

  it('fails at once on refused credentials, without trying the rest', async () => {
    await assert.rejects(connectBus(`${broker.url},mqtt://127.0.0.1:1`, { username: 'reader', password: 'wrong' }), /Bad username or password/);
  });

  it('takes the password from the users file, options over the URL', async () => {
    const withUser = broker.url.replace('mqtt://', 'mqtt://bridge:nonsense@');
    const c = await connectBus(withUser, { credentialsFile: usersFile });
    await assert.rejects(connectBus(withUser), /Bad username or password/);
    await c.endAsync();
    await assert.rejects(connectBus(broker.url, { credentialsFile: usersFile }), /needs an account name/);
  });
});
