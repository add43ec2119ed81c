// Configuration order flag > MESHFLOW_<FLAG> > config file > default, on a commander program built
// here (the resolver itself) and on the real `meshflow` command (--print-config), and the errors a
// bad config file gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { applyConfig, ConfigError, type ConfigHandle } from '../../cli/config.ts';
import { intOption } from '../../cli/options.ts';

const BIN = fileURLToPath(new URL('../../bin/meshflow.js', import.meta.url));

type Opts = Record<string, unknown>;

/** A program shaped like meshflow's: two commands sharing a flag, a switch, a negated switch, a list, a mandatory option. */
function program(): { program: Command; ran: () => Opts; handle: ConfigHandle } {
  let got: Opts = {};
  const p = new Command('meshflow').configureOutput({ writeErr: () => {}, writeOut: () => {} });
  p.command('serve')
    .option('--of-port <port>', 'a port', intOption, 6653)
    .option('--mqtt-url <url>', 'a broker', 'mqtt://127.0.0.1:1883')
    .option('--name <name>', 'a name')
    .option('--json', 'a switch', false)
    .option('--no-progress', 'a negated switch')
    .option('--topic <t>', 'repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .action((o: Opts) => {
      got = o;
    });
  p.command('watch')
    .option('--mqtt-url <url>', 'a broker', 'mqtt://127.0.0.1:1883')
    .addOption(new Option('--sidecar <id>', 'must be given').makeOptionMandatory())
    .action((o: Opts) => {
      got = o;
    });
  const handle = applyConfig(p);
  return { program: p, ran: () => got, handle };
}

const ENV_KEYS = ['MESHFLOW_OF_PORT', 'MESHFLOW_MQTT_URL', 'MESHFLOW_NAME', 'MESHFLOW_JSON', 'MESHFLOW_NO_PROGRESS', 'MESHFLOW_CONFIG', 'MESHFLOW_SIDECAR'];

describe('cli config: flag > environment > config file > default', () => {
  let dir: string;
  const saved = new Map<string, string | undefined>();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshflow-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    for (const k of ENV_KEYS) {
      saved.set(k, process.env[k]);
      delete process.env[k];
    }
  });
  afterEach(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  async function run(args: string[]): Promise<{ opts: Opts; handle: ConfigHandle }> {
    const p = program();
    await p.program.parseAsync(args, { from: 'user' });
    return { opts: p.ran(), handle: p.handle };
  }

  it('uses the default when nothing else is given', async () => {
    const { opts, handle } = await run(['serve']);
    assert.equal(opts['ofPort'], 6653);
    assert.equal(handle.current()?.options['ofPort']?.from, 'default');
    assert.equal(handle.current()?.options['name']?.from, 'unset');
  });

  it('takes the file over the default, the environment over the file, the flag over the environment', async () => {
    const cfg = file('order.yaml', 'ofPort: 7000\nname: from-file\nserve:\n  mqtt-url: mqtt://file:1883\n');
    let r = await run(['--config', cfg, 'serve']);
    assert.deepEqual([r.opts['ofPort'], r.opts['name'], r.opts['mqttUrl']], [7000, 'from-file', 'mqtt://file:1883']);
    assert.equal(r.handle.current()?.options['ofPort']?.from, 'file');
    assert.equal(r.handle.current()?.options['mqttUrl']?.key, 'serve.mqtt-url');

    process.env['MESHFLOW_OF_PORT'] = '7100';
    r = await run(['--config', cfg, 'serve']);
    assert.equal(r.opts['ofPort'], 7100, 'environment over file (and parsed like the flag)');
    assert.equal(r.handle.current()?.options['ofPort']?.from, 'env');

    r = await run(['--config', cfg, 'serve', '--of-port', '7200']);
    assert.equal(r.opts['ofPort'], 7200, 'flag over environment');
    assert.equal(r.handle.current()?.options['ofPort']?.from, 'flag');
    assert.equal(r.opts['name'], 'from-file', 'other flags still come from the file');
  });

  it('finds the file through MESHFLOW_CONFIG and through the command\'s own --config', async () => {
    const cfg = file('env.json', JSON.stringify({ serve: { ofPort: 7300 } }));
    process.env['MESHFLOW_CONFIG'] = cfg;
    assert.equal((await run(['serve'])).opts['ofPort'], 7300);
    delete process.env['MESHFLOW_CONFIG'];
    assert.equal((await run(['serve', '--config', cfg])).opts['ofPort'], 7300);
  });

  it('lets a command section win over the top level, and keeps sections to their command', async () => {
    const cfg = file('sections.yaml', 'mqttUrl: mqtt://top:1883\nserve:\n  mqttUrl: mqtt://serve:1883\n');
    assert.equal((await run(['--config', cfg, 'serve'])).opts['mqttUrl'], 'mqtt://serve:1883');
    assert.equal((await run(['--config', cfg, 'watch', '--sidecar', 's1'])).opts['mqttUrl'], 'mqtt://top:1883');
  });

  it('reads switches, negated switches and lists from the file', async () => {
    const cfg = file('switches.yaml', 'serve:\n  json: true\n  no-progress: true\n  topic: [a/#, b]\n');
    const { opts } = await run(['--config', cfg, 'serve']);
    assert.equal(opts['json'], true);
    assert.equal(opts['progress'], false);
    assert.deepEqual(opts['topic'], ['a/#', 'b']);
    const again = await run(['--config', cfg, 'serve', '--topic', 'c']);
    assert.deepEqual(again.opts['topic'], ['c'], 'a flag replaces the file list rather than adding to it');
  });

  it('reads a switch variable by its value: MESHFLOW_JSON=0 is off, MESHFLOW_NO_PROGRESS=1 turns progress off', async () => {
    process.env['MESHFLOW_JSON'] = '0';
    process.env['MESHFLOW_NO_PROGRESS'] = '1';
    const { opts } = await run(['serve']);
    assert.equal(opts['json'], false);
    assert.equal(opts['progress'], false);
    process.env['MESHFLOW_JSON'] = 'true';
    assert.equal((await run(['serve'])).opts['json'], true);
  });

  it('lets the environment or the file satisfy a mandatory option, and still insists on it', async () => {
    process.env['MESHFLOW_SIDECAR'] = 's-env';
    assert.equal((await run(['watch'])).opts['sidecar'], 's-env');
    delete process.env['MESHFLOW_SIDECAR'];
    const cfg = file('mandatory.yaml', 'watch:\n  sidecar: s-file\n');
    assert.equal((await run(['--config', cfg, 'watch'])).opts['sidecar'], 's-file');
    await assert.rejects(run(['watch']), (e: unknown) => e instanceof CommanderError && e.exitCode === 2 && /--sidecar/.test(e.message));
  });

  it('refuses a bad variable with its name, as a usage error', async () => {
    process.env['MESHFLOW_OF_PORT'] = 'abc';
    await assert.rejects(run(['serve']), (e: unknown) => e instanceof CommanderError && e.exitCode === 2 && /MESHFLOW_OF_PORT="abc"/.test(e.message));
  });

  describe('bad config files', () => {
    const cases: { name: string; text?: string; key?: string; message: RegExp }[] = [
      { name: 'missing.yaml', message: /cannot read config file .*missing\.yaml: no such file.*--config or MESHFLOW_CONFIG/ },
      { name: 'syntax.yaml', text: 'serve: [\n', message: /is not valid YAML or JSON: .*line \d+/ },
      { name: 'syntax.json', text: '{"serve": {"ofPort": 1,}', message: /is not valid YAML or JSON/ },
      { name: 'list.yaml', text: '- a\n- b\n', message: /must hold a mapping of flag names/ },
      { name: 'unknown.yaml', text: 'serve:\n  ofPrt: 1\n', key: 'serve.ofPrt', message: /unknown key "serve\.ofPrt".*Did you mean "serve\.ofPort"\?/ },
      { name: 'unknown-top.yaml', text: 'colour: red\n', key: 'colour', message: /unknown key "colour": not a flag of any command, nor a command name/ },
      { name: 'other-command.yaml', text: 'watch:\n  json: true\n', key: 'watch.json', message: /unknown key "watch\.json": not a flag of `meshflow watch`/ },
      { name: 'number.yaml', text: 'serve:\n  ofPort: abc\n', key: 'serve.ofPort', message: /key "serve\.ofPort": "abc" is not valid for --of-port: expected a whole number.*MESHFLOW_OF_PORT/ },
      { name: 'fraction.json', text: '{"ofPort": 66.5}', key: 'ofPort', message: /key "ofPort": 66\.5 is not valid for --of-port/ },
      { name: 'switch.yaml', text: 'serve:\n  json: yes please\n', key: 'serve.json', message: /expected true or false/ },
      { name: 'mapping.yaml', text: 'serve:\n  name: { a: 1 }\n', key: 'serve.name', message: /expected a string, got a mapping/ },
      { name: 'scalar-list.yaml', text: 'serve:\n  name: [a, b]\n', key: 'serve.name', message: /expected one value, got a list/ },
      { name: 'empty-value.yaml', text: 'serve:\n  name:\n', key: 'serve.name', message: /has no value/ },
      { name: 'section.yaml', text: 'serve: 3\n', key: 'serve', message: /is the serve section and must be a mapping/ },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.message.source.slice(0, 60)}`, async () => {
        const path = c.text === undefined ? join(dir, c.name) : file(c.name, c.text);
        await assert.rejects(run(['--config', path, 'serve']), (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.exitCode, 2);
          assert.equal(e.file, path);
          assert.equal(e.key, c.key);
          assert.ok(e.message.includes(path), `names the file: ${e.message}`);
          assert.match(e.message, c.message);
          return true;
        });
      });
    }
  });
});

describe('cli config: the meshflow command', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshflow-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function meshflow(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MESHFLOW_') && k !== 'NODE_ENV'));
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  interface Printed {
    command: string;
    file?: string;
    options: Record<string, { value?: unknown; from: string; env?: string; key?: string }>;
  }

  it('resolves a real command: flag > env > file > default, as --print-config shows', () => {
    const cfg = join(dir, 'meshflow.yaml');
    writeFileSync(cfg, 'mqttUrl: mqtt://user:pw@file-broker:1883\ncontroller:\n  of-port: 7000\n  apiPort: 9000\n  pollInterval: 500\n');
    const r = meshflow(['--config', cfg, 'controller', '--of-port', '6000', '--print-config'], { MESHFLOW_API_PORT: '8100' });
    assert.equal(r.status, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Printed;
    assert.equal(printed.command, 'controller');
    assert.equal(printed.file, cfg);
    const o = printed.options;
    assert.deepEqual([o['ofPort']?.value, o['ofPort']?.from], [6000, 'flag']);
    assert.deepEqual([o['apiPort']?.value, o['apiPort']?.from], [8100, 'env']);
    assert.deepEqual([o['pollInterval']?.value, o['pollInterval']?.from, o['pollInterval']?.key], [500, 'file', 'controller.pollInterval']);
    assert.deepEqual([o['echoInterval']?.value, o['echoInterval']?.from], [5000, 'default']);
    assert.equal(o['mqttUrl']?.value, 'mqtt://user:***@file-broker:1883', 'passwords are masked');
    assert.equal(o['ofPort']?.env, 'MESHFLOW_OF_PORT');
  });

  it('gives every command, the new flags included, its variable (MESHFLOW_CONFIG finds the file)', () => {
    const cfg = join(dir, 'bridge.json');
    writeFileSync(cfg, JSON.stringify({ bridge: { weightsTtl: 1234, apiToken: 's3cret' } }));
    const r = meshflow(['bridge', '--print-config'], { MESHFLOW_CONFIG: cfg, MESHFLOW_MQTT_URL: 'mqtt://env:1883' });
    assert.equal(r.status, 0, r.stderr);
    const o = (JSON.parse(r.stdout) as Printed).options;
    assert.deepEqual([o['weightsTtl']?.value, o['weightsTtl']?.from], [1234, 'file']);
    assert.deepEqual([o['mqttUrl']?.value, o['mqttUrl']?.from], ['mqtt://env:1883', 'env']);
    assert.deepEqual([o['apiToken']?.value, o['apiToken']?.from], ['***', 'file'], 'tokens are masked');
  });

  it('keeps the sidecar\'s own --config apart from the meshflow config file', () => {
    const cfg = join(dir, 'for-sidecar.yaml');
    writeFileSync(cfg, 'sidecar:\n  logLevel: debug\n');
    const r = meshflow(['--config', cfg, 'sidecar', '--config', 'sidecar.json', '--print-config']);
    assert.equal(r.status, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Printed;
    assert.equal(printed.file, cfg);
    assert.deepEqual([printed.options['logLevel']?.value, printed.options['logLevel']?.from], ['debug', 'file']);
  });

  it('stops on a bad config file with exit code 2, naming the file and the key', () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'controller:\n  ofPort: lots\n');
    const r = meshflow(['--config', cfg, 'controller']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^meshflow: config file ${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: key "controller.ofPort"`));
    assert.match(r.stderr, /Fix the value in the file, or override it with --of-port or MESHFLOW_OF_PORT/);
  });

  it('exits 2 on a usage error and 0 on --help', () => {
    assert.equal(meshflow(['controller', '--of-prot', '1']).status, 2);
    assert.equal(meshflow(['controller', '--help']).status, 0);
  });

  it('lists every command in --help, and each command\'s flags, defaults and variables in its own', () => {
    const top = meshflow(['--help']).stdout;
    for (const name of ['start', 'controller', 'bridge', 'sidecar', 'decode', 'replay', 'hints', 'lab']) assert.match(top, new RegExp(`^  ${name}\\b`, 'm'), name);
    assert.match(top, /MESHFLOW_CONFIG/);
    const help = meshflow(['controller', '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(help, /--of-port <port> OpenFlow TCP port \(0: any free port\) \(default: 6653, env: MESHFLOW_OF_PORT\)/);
    assert.match(help, /--api-token <token> .*\(env: MESHFLOW_API_TOKEN\)/);
    assert.match(help, /Order: flag > environment > config file > default/);
  });

  it('refuses to start the controller or the bridge in production without a token (exit 2)', () => {
    for (const [args, env] of [
      [['controller', '--production'], {}],
      [['bridge'], { NODE_ENV: 'production' }],
    ] as const) {
      const r = meshflow([...args], env);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /production mode .* refuses to start without an API token: set --api-token or MESHFLOW_API_TOKEN/);
    }
  });
});
