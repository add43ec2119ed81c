// openflow-ts as a user gets it: `npm pack` of the workspace package, installed from the
// tarball into an empty project with no registry (the package has no dependencies), where a
// plain Node ESM script decodes a fixture and a strict TypeScript file type-checks against
// the shipped declarations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkgDir = path.join(repo, 'packages', 'openflow-ts');
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const npm = (args: readonly string[], cwd: string) => exec('npm', [...args], { cwd, maxBuffer: 16 << 20 });

describe('packages: openflow-ts from its npm pack tarball', function () {
  const work = mkdtempSync(path.join(tmpdir(), 'openflow-ts-pack-'));
  const project = path.join(work, 'project');
  let tarball = '';
  let files: string[] = [];

  before(async () => {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', work], pkgDir);
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    files = info!.files.map((f) => f.path);
    await exec('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await npm(['install', '--offline', '--no-audit', '--no-fund', tarball], project);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('ships JavaScript and declarations only, and leaves no build output behind', () => {
    assert.ok(files.includes('src/index.js') && files.includes('src/index.d.ts') && files.includes('src/low-level.js'));
    assert.deepStrictEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
    assert.deepStrictEqual(files.filter((f) => /^(test|fixtures|scripts|examples)\//.test(f)), []);
    const left = readdirSync(path.join(pkgDir, 'src'), { recursive: true }).map(String).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'));
    assert.deepStrictEqual(left, []);
  });

  it('installs with no dependencies', () => {
    const installed = readdirSync(path.join(project, 'node_modules')).filter((d) => !d.startsWith('.'));
    assert.deepStrictEqual(installed, ['openflow-ts']);
  });

  it('decodes a fixture vector from a plain Node ESM script', async () => {
    const hex = readFileSync(path.join(pkgDir, 'fixtures', 'multipart_reply.desc.hex'), 'utf8').replace(/\s+/g, '');
    writeFileSync(
      path.join(project, 'main.js'),
      `import { decode, encode, FrameReader } from 'openflow-ts';
import { Reader } from 'openflow-ts/wire';
const bytes = Buffer.from(${JSON.stringify(hex)}, 'hex');
const [frame] = new FrameReader().push(bytes);
const msg = decode(frame);
console.log(JSON.stringify({ type: msg.type, kind: msg.body.kind, hw: msg.body.hwDesc, same: encode(msg).equals(bytes), reader: typeof Reader }));
`,
    );
    const { stdout } = await exec(process.execPath, ['main.js'], { cwd: project });
    assert.deepStrictEqual(JSON.parse(stdout), { type: 'multipart_reply', kind: 'desc', hw: 'Open vSwitch', same: true, reader: 'function' });
  });

  it('runs the README stream example with plain node', async () => {
    writeFileSync(path.join(project, 'decode-stream.js'), readFileSync(path.join(pkgDir, 'examples', 'decode-stream.js')));
    const { stdout } = await exec(process.execPath, ['decode-stream.js'], { cwd: project });
    assert.equal(stdout, 'hello 1\necho_request 2\n');
  });

  it('type-checks a strict TypeScript consumer against the shipped declarations', async () => {
    writeFileSync(
      path.join(project, 'check.ts'),
      `import { decode, flowMod, type OfMessage, type MessageOf } from 'openflow-ts';
import { MESSAGE_CODECS } from 'openflow-ts/wire';
const m: OfMessage = decode(Buffer.alloc(8));
const fm: Omit<MessageOf<'flow_mod'>, 'xid'> = flowMod({ priority: 1, match: [{ field: 'ipv4_dst', value: '10.0.0.1' }] });
const code: number = MESSAGE_CODECS.flow_mod.code;
// @ts-expect-error: a match value of the wrong type is refused
flowMod({ match: [{ field: 'ipv4_dst', value: 7 }] });
export { m, fm, code };
`,
    );
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [], typeRoots: [path.join(repo, 'node_modules', '@types')] }, files: ['check.ts'] }),
    );
    assert.ok(existsSync(tsc));
    await exec(process.execPath, [tsc, '-p', project, '--types', 'node']).catch((e: { stdout?: string }) => {
      assert.fail(`tsc: ${e.stdout ?? String(e)}`);
    });
  });
});
