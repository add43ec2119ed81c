// Serves the dashboard: the page at / and /dashboard, its own files from this folder, and the two
// browser libraries it uses straight from node_modules. Every file is named in an allow-list, so no
// request path ever becomes a file path, and there is no build step between these files and the browser.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
// A file next to a package's main entry. Resolved through the package's require entry: it works under
// every loader (import.meta.resolve does not under some test loaders), and ESM-only subpaths of an
// "exports" map cannot be required by name anyway.
const require = createRequire(import.meta.url);
const besideMain = (pkg: string, file: string): string => join(dirname(require.resolve(pkg)), file);

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

interface Asset {
  readonly file: () => string;
  readonly type: string;
}

// Maps, not object literals: a name like "constructor" must find nothing.
/** The page's own modules and styles, by the name they have under /dashboard/. */
const OWN: ReadonlyMap<string, Asset> = new Map([
  ...['app.js', 'state.js', 'topology.js', 'timeline.js', 'weights.js', 'lab.js', 'stream.js', 'colors.js'].map(
    (n): [string, Asset] => [n, { file: () => here(n), type: JS }],
  ),
  ['style.css', { file: () => here('style.css'), type: CSS }],
]);

/** Libraries, by the name the page imports them under /dashboard/vendor/. */
const VENDOR: ReadonlyMap<string, Asset> = new Map([
  ['cytoscape.mjs', { file: () => besideMain('cytoscape', 'cytoscape.esm.min.mjs'), type: JS }],
  ['uplot.mjs', { file: () => besideMain('uplot', 'uPlot.esm.js'), type: JS }],
  ['uplot.css', { file: () => besideMain('uplot', 'uPlot.min.css'), type: CSS }],
]);

// Files are read once: they do not change while the server runs (restart to pick up edits).
const cache = new Map<string, Promise<Buffer>>();
function load(asset: Asset): Promise<Buffer> {
  const path = asset.file();
  let p = cache.get(path);
  if (p === undefined) {
    p = readFile(path);
    p.catch(() => cache.delete(path));
    cache.set(path, p);
  }
  return p;
}

async function sendAsset(reply: FastifyReply, asset: Asset | undefined, name: string): Promise<FastifyReply> {
  if (asset === undefined) return reply.code(404).send({ error: 'not_found', message: `no dashboard file ${name}` });
  return reply.type(asset.type).header('cache-control', 'no-cache').send(await load(asset));
}

const PAGE: Asset = { file: () => here('index.html'), type: 'text/html; charset=utf-8' };

const pageSchema = {
  summary: 'The dashboard (HTML page)',
  description: 'Topology with live link load, congestion timeline, sidecar weights and lab progress.',
  tags: ['meta'],
  response: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
};

const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

export function dashboardRoutes(app: FastifyInstance): void {
  app.get('/', { schema: pageSchema }, async (_req, reply) => sendAsset(reply, PAGE, 'index.html'));
  app.get('/dashboard', { schema: pageSchema }, async (_req, reply) => sendAsset(reply, PAGE, 'index.html'));
  // Static files are not API: hidden from the OpenAPI document on purpose.
  app.get<{ Params: { name: string } }>(
    '/dashboard/:name',
    { schema: { hide: true, params: nameParams } },
    async (req, reply) => sendAsset(reply, OWN.get(req.params.name), req.params.name),
  );
  app.get<{ Params: { name: string } }>(
    '/dashboard/vendor/:name',
    { schema: { hide: true, params: nameParams } },
    async (req, reply) => sendAsset(reply, VENDOR.get(req.params.name), req.params.name),
  );
}
