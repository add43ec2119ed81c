// The registry: every bad file names the place at fault; the REST API applies the same rules.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../../bridge/api.ts';
import { loadRegistry, parseRegistry, parseRegistryText, RegistryError } from '../../bridge/registry.ts';
import { RegistryStore } from '../../bridge/registry-store.ts';

const good = () => ({
  services: [
    { name: 'orders', port: 8080, latencySensitive: true },
    { name: 'inventory', port: 9090 },
  ],
  replicas: [
    { id: 'orders-a', service: 'orders', host: 'h2', port: 8080 },
    { id: 'orders-b', service: 'orders', host: '10.0.0.3', port: 8080 },
    { id: 'inventory-a', service: 'inventory', host: 'h2', port: 9090 },
  ],
  sidecars: [{ id: 'web-1', host: 'h1', calls: ['orders', 'inventory'] }] as Record<string, unknown>[],
  attachments: { h1: '0000000000000001', h2: '0000000000000002', '10.0.0.3': '00000000000000AB' } as Record<string, string>,
});

function issuesOf(doc: unknown): string[] {
  try {
    parseRegistry(doc);
  } catch (err) {
    assert.ok(err instanceof RegistryError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the registry to be rejected');
}

describe('bridge registry: file', () => {
  it('accepts a good registry and normalises attachment points to lower case', () => {
    const reg = parseRegistry(good());
    assert.equal(reg.attachments['10.0.0.3'], '00000000000000ab');
    assert.equal(reg.sidecars.length, 1);
  });

  it('reads YAML and JSON files alike, and hostPid as another name for attachments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshflow-reg-'));
    try {
      const doc = good();
      const { attachments, ...rest } = doc;
      await writeFile(join(dir, 'r.json'), JSON.stringify({ ...rest, hostPid: attachments }));
      await writeFile(
        join(dir, 'r.yaml'),
        'services:\n  - { name: orders, port: 8080 }\nreplicas:\n  - { id: a, service: orders, host: h2, port: 8080 }\nattachments:\n  h2: "0000000000000002"\n',
      );
      assert.equal((await loadRegistry(join(dir, 'r.json'))).attachments['h1'], '0000000000000001');
      assert.deepEqual((await loadRegistry(join(dir, 'r.yaml'))).sidecars, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const cases: [string, (d: ReturnType<typeof good>) => unknown, string][] = [
    ['a port that is not an integer', (d) => ((d.replicas[2] as { port: unknown }).port = 80.5, d), '/replicas/2/port: must be integer'],
    ['a port as a string', (d) => ((d.replicas[1] as { port: unknown }).port = '8080', d), '/replicas/1/port: must be integer'],
    ['a port out of range', (d) => ((d.services[0] as { port: unknown }).port = 70000, d), '/services/0/port: must be <= 65535'],
    ['a missing field', (d) => (delete (d.services[1] as { port?: unknown }).port, d), '/services/1/port: is required'],
    ['an unknown field', (d) => ((d.sidecars[0] as Record<string, unknown>)['colour'] = 'red', d), '/sidecars/0/colour: unknown field'],
    ['a missing section', (d) => ({ services: d.services }), '/replicas: is required'],
    ['a replica of an unknown service', (d) => ((d.replicas[1] as { service: string }).service = 'payments', d), '/replicas/1/service: unknown service "payments"'],
    ['a sidecar calling an unknown service', (d) => ((d.sidecars[0] as { calls: string[] }).calls = ['orders', 'payments'], d), '/sidecars/0/calls/1: unknown service "payments"'],
    ['a duplicate replica id', (d) => ((d.replicas[2] as { id: string }).id = 'orders-a', d), '/replicas/2/id: duplicate replica "orders-a"'],
    ['a duplicate service', (d) => (d.services.push({ name: 'orders', port: 1 }), d), '/services/2/name: duplicate service "orders"'],
    ['a duplicate sidecar', (d) => (d.sidecars.push({ id: 'web-1', host: 'h9', calls: [] }), d), '/sidecars/1/id: duplicate sidecar "web-1"'],
    ['a malformed attachment point', (d) => ((d.attachments['h1'] = 's1'), d), '/attachments/h1: must match pattern "^[0-9a-fA-F]{16}$"'],
    ['an haproxy sidecar without its socket', (d) => ((d.sidecars[0] as Record<string, unknown>)['kind'] = 'haproxy', d), '/sidecars/0/haproxy: is required when kind is haproxy'],
    [
      'attachments and hostPid that disagree',
      (d) => ({ ...d, hostPid: { h1: '0000000000000009' } }),
      '/hostPid/h1: conflicts with the attachment point given earlier (0000000000000001)',
    ],
  ];
  for (const [what, mutate, expected] of cases) {
    it(`rejects ${what}: ${expected}`, () => {
      assert.ok(issuesOf(mutate(good())).includes(expected), issuesOf(mutate(good())).join('\n'));
    });
  }

  it('rejects text that is neither YAML nor JSON, and names the problem in the message', () => {
    assert.throws(() => parseRegistryText('services: [unclosed'), /^RegistryError: \/: not YAML or JSON/);
    assert.throws(() => parseRegistryText('services: []\nreplicas: [{ id: a, service: x, host: h, port: 1 }]\n'), {
      message: '/replicas/0/service: unknown service "x"',
    });
  });
});

describe('bridge registry: REST API', () => {
  const api = () => buildApi(new RegistryStore(parseRegistry(good())));

  it('lists, reads, creates, replaces and deletes replicas', async () => {
    const app = api();
    assert.equal((await app.inject({ url: '/api/v1/registry/replicas' })).json<unknown[]>().length, 3);
    assert.equal((await app.inject({ url: '/api/v1/registry/replicas/orders-a' })).json<{ host: string }>().host, 'h2');
    const put = await app.inject({ method: 'PUT', url: '/api/v1/registry/replicas/orders-c', payload: { service: 'orders', host: 'h4', port: 8080 } });
    assert.equal(put.statusCode, 201);
    const again = await app.inject({ method: 'PUT', url: '/api/v1/registry/replicas/orders-c', payload: { service: 'orders', host: 'h5', port: 8080 } });
    assert.equal(again.statusCode, 200);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/registry/replicas/orders-c' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/v1/registry/replicas/orders-c' })).statusCode, 404);
  });

  it('answers 400 naming the field for a bad body', async () => {
    const app = api();
    const r = await app.inject({ method: 'PUT', url: '/api/v1/registry/replicas/x', payload: { service: 'orders', host: 'h4', port: 'eighty' } });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(r.json<{ issues: unknown[] }>().issues, [{ path: '/port', message: 'must be integer' }]);
    const unknown = await app.inject({ method: 'PUT', url: '/api/v1/registry/replicas/x', payload: { service: 'nope', host: 'h4', port: 80 } });
    assert.equal(unknown.json<{ message: string }>().message, '/service: unknown service "nope"');
    const sc = await app.inject({ method: 'PUT', url: '/api/v1/registry/sidecars/s', payload: { host: 'h1', calls: ['orders', 'zzz'] } });
    assert.equal(sc.json<{ message: string }>().message, '/calls/1: unknown service "zzz"');
    const svc = await app.inject({ method: 'PUT', url: '/api/v1/registry/services/pay', payload: { port: 1, name: 'other' } });
    assert.equal(svc.json<{ message: string }>().message, '/name: must match the URL ("pay")');
    const notJson = await app.inject({ method: 'PUT', url: '/api/v1/registry/services/pay', headers: { 'content-type': 'application/json' }, payload: '{' });
    assert.equal(notJson.statusCode, 400);
    const pid = await app.inject({ method: 'PUT', url: '/api/v1/registry/attachments/h7', payload: { pid: 'xyz' } });
    assert.equal(pid.json<{ message: string }>().message, '/pid: must be 16 hex characters');
  });

  it('refuses to delete a service still in use (409), and emits change events on success', async () => {
    const store = new RegistryStore(parseRegistry(good()));
    const app = buildApi(store);
    let changes = 0;
    store.on('change', () => changes++);
    const r = await app.inject({ method: 'DELETE', url: '/api/v1/registry/services/inventory' });
    assert.equal(r.statusCode, 409);
    assert.match(r.json<{ message: string }>().message, /used by replica "inventory-a", sidecar "web-1"/);
    await app.inject({ method: 'DELETE', url: '/api/v1/registry/replicas/inventory-a' });
    await app.inject({ method: 'PUT', url: '/api/v1/registry/sidecars/web-1', payload: { host: 'h1', calls: ['orders'] } });
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/registry/services/inventory' })).statusCode, 200);
    assert.equal(changes, 3);
    assert.deepEqual(store.current.services.map((s) => s.name), ['orders']);
  });
});
