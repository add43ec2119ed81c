// One error shape for the whole controller API: { error: <code>, message, field? }. Routes already
// answer their own 400s and 404s in it; this covers what fastify answers for them: schema
// validation, unreadable bodies, unknown routes, and errors nobody expected (500, no stack).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';

export interface ApiError {
  readonly error: string;
  readonly message: string;
  /** JSON pointer into the request part that failed validation ("/dstPort"). */
  readonly field?: string;
}

/** ApiError as a response schema, for the routes' OpenAPI documents (id: the intent a conflict names). */
export const apiErrorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, id: { type: 'string' } },
  required: ['error', 'message'],
} as const;

/**
 * For a route whose handler checks the request itself, so that a bad one is answered in the API's
 * own words (and nothing is coerced): the route's schema then only documents it.
 */
export const documentedOnly: FastifySchemaCompiler<unknown> = () => () => true;

/** Where unexpected errors go; the client only learns that one happened, and its request id. */
export interface ErrorLog {
  error(obj: object, msg: string): void;
}

const CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** The field of the first validation failure: its instance path, or the property that is missing. */
function fieldOf(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const missing = (first.params as { missingProperty?: unknown } | undefined)?.missingProperty;
  const extra = (first.params as { additionalProperty?: unknown } | undefined)?.additionalProperty;
  const child = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : undefined;
  const base = first.instancePath ?? '';
  return child === undefined ? base || undefined : `${base}/${child}`;
}

export function toApiError(err: FastifyError): { status: number; body: ApiError } {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) {
    return { status: 500, body: { error: 'internal', message: 'unexpected error; the controller log has the details' } };
  }
  if (err.validation) {
    // fastify's message already names the part and the path: "body/dstPort must be <= 65535".
    const field = fieldOf(err);
    return { status: 400, body: { error: 'bad_request', message: err.message, ...(field === undefined ? {} : { field }) } };
  }
  return { status, body: { error: CODES[status] ?? 'bad_request', message: err.message } };
}

export interface ErrorHandlerOptions {
  readonly log?: ErrorLog;
}

/** Installs the error and not-found handlers on the root app; routes registered in child plugins inherit them. */
export function installErrorHandlers(app: FastifyInstance, opts: ErrorHandlerOptions = {}): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toApiError(err);
    if (status >= 500) {
      opts.log?.error({ err, method: req.method, url: req.url, reqId: req.id }, 'api: unexpected error');
      return reply.code(500).send({ ...body, message: `${body.message} (request ${req.id})` });
    }
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    // The "Route METHOD:url not found" opening is fastify's own wording, which clients and tests match on.
    const path = req.url.split('?')[0] ?? req.url;
    return reply.code(404).send({
      error: 'not_found',
      message: `Route ${req.method}:${path} not found; GET /api/v1/openapi.json lists the API`,
    } satisfies ApiError);
  });
}
