// Bearer tokens for the requests that change state. Reads stay open (dashboards, scrapers and
// `curl` keep working); anything else under /api/v1/ must carry `Authorization: Bearer <token>`
// once a token is configured. The module needs only fastify and node:crypto, so the bridge's API
// uses the same hook, handed to it by its runner.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';

export const API_PREFIX = '/api/v1/';
/** Methods that only read; every other one is checked. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The name of the scheme in the OpenAPI document. */
export const SECURITY_SCHEME = 'bearerAuth';

/** Production without a token. The CLI prints the message and exits with 2. */
export class MissingTokenError extends Error {
  readonly exitCode = 2;
  constructor(what: string) {
    super(
      `${what} runs in production mode (NODE_ENV=production or --production) and refuses to start without an API token: ` +
        'set --api-token or MESHFLOW_API_TOKEN (for example to the output of `openssl rand -hex 32`), ' +
        'and give the same token to the clients that change state.',
    );
    this.name = 'MissingTokenError';
  }
}

export interface ProductionOptions {
  readonly apiToken?: string | undefined;
  readonly production?: boolean | undefined;
  /** Defaults to process.env.NODE_ENV. */
  readonly nodeEnv?: string | undefined;
}

export function isProduction(o: ProductionOptions): boolean {
  return o.production === true || (o.nodeEnv ?? process.env.NODE_ENV) === 'production';
}

/** Throws MissingTokenError when production mode has no token; `what` names the program in the message. */
export function requireTokenInProduction(what: string, o: ProductionOptions): void {
  if (isProduction(o) && (o.apiToken === undefined || o.apiToken === '')) throw new MissingTokenError(what);
}

/** Hashing first makes both sides one length, so neither the content nor the length leaks through timing. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Whether a request needs the token. The path is the matched route's pattern when there is one:
 * the raw URL could spell the same route differently (`/%61pi/v1/…`) and slip past a prefix test.
 */
export function needsToken(req: FastifyRequest): boolean {
  if (SAFE_METHODS.has(req.method)) return false;
  const path = req.routeOptions.url ?? decodePath(req.url);
  return path.startsWith(API_PREFIX);
}

function decodePath(url: string): string {
  const path = url.split('?')[0] ?? url;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function refuse(reply: FastifyReply, invalid: boolean): FastifyReply {
  // RFC 6750: a challenge always, and error="invalid_token" when a token was sent but is wrong.
  return reply
    .code(401)
    .header('www-authenticate', invalid ? 'Bearer realm="meshflow", error="invalid_token"' : 'Bearer realm="meshflow"')
    .send({
      error: 'unauthorized',
      message: invalid
        ? 'the bearer token is not valid: send the token this server was started with (--api-token / MESHFLOW_API_TOKEN)'
        : 'this request changes state and needs "Authorization: Bearer <token>" with the token set by --api-token / MESHFLOW_API_TOKEN',
    });
}

/** The onRequest hook that checks the token. */
export function bearerAuth(token: string): onRequestHookHandler {
  if (token === '') throw new Error('bearerAuth: the token is empty');
  return async (req, reply) => {
    if (!needsToken(req)) return;
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match?.[1]) return refuse(reply, header !== undefined);
    if (!tokensEqual(match[1], token)) return refuse(reply, true);
  };
}

/** Installs the hook when a token is configured; call it before registering routes. */
export function installAuth(app: FastifyInstance, token: string | undefined): void {
  if (token !== undefined && token !== '') app.addHook('onRequest', bearerAuth(token));
}

const WRITE_OPERATIONS: ReadonlySet<string> = new Set(['post', 'put', 'patch', 'delete']);

type OpenApiOperation = { security?: unknown; responses?: Record<string, unknown> };
type OpenApiLike = {
  components?: { securitySchemes?: Record<string, unknown> } & Record<string, unknown>;
  paths?: Record<string, Record<string, unknown>>;
};

/**
 * For @fastify/swagger's transformObject: declares the bearer scheme and lists it, with its 401,
 * on every mutating operation under /api/v1/. Documented whether or not a token is set, because
 * a client cannot know and must be ready to send one.
 */
export function documentBearerAuth<T extends object>(document: T): T {
  const doc = document as OpenApiLike;
  const components = { ...doc.components };
  components.securitySchemes = {
    ...components.securitySchemes,
    [SECURITY_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      description: 'Required on POST, PUT, PATCH and DELETE under /api/v1/ when the server runs with --api-token (MESHFLOW_API_TOKEN).',
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    const out: Record<string, unknown> = { ...ops };
    if (path.startsWith(API_PREFIX)) {
      for (const [method, op] of Object.entries(ops)) {
        // Path items also hold `parameters`, `summary` and the like: only operations that write count.
        if (!WRITE_OPERATIONS.has(method) || typeof op !== 'object' || op === null) continue;
        const operation = op as OpenApiOperation;
        out[method] = {
          ...operation,
          security: [{ [SECURITY_SCHEME]: [] }],
          responses: { ...operation.responses, 401: operation.responses?.['401'] ?? { description: 'Missing or wrong bearer token' } },
        };
      }
    }
    paths[path] = out;
  }
  return { ...document, components, paths };
}
