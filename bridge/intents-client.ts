// The controller's intents API, spoken as any outside program would: REST over HTTP.
import type { IntentSpec } from './policy.ts';

export class IntentsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'IntentsError';
  }
}

/** What the controller is asked for: the spec without the bridge's own bookkeeping key. */
export type IntentBody = Omit<IntentSpec, 'key'>;

export interface CreatedIntent {
  readonly id: string;
  /** The path the controller chose, when it says. */
  readonly path?: readonly string[];
}

export interface IntentsClientOptions {
  /** Bearer token the controller requires on mutating requests, when it is configured with one. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

export class IntentsClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly auth: Record<string, string>;

  constructor(baseUrl: string, opts: IntentsClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.auth = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  }

  async create(spec: IntentSpec): Promise<CreatedIntent> {
    const { key: _key, ...body } = spec;
    const res = await this.request('POST', '/api/v1/intents', body satisfies IntentBody);
    if (res.status !== 200 && res.status !== 201) throw new IntentsError(res.status, `POST /api/v1/intents: ${res.status} ${await res.text()}`);
    const json: unknown = await res.json();
    const id = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['id'] : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') throw new IntentsError(res.status, 'POST /api/v1/intents: answer has no id');
    // The controller names the path's switches in `switches` (its `path` is the hops); older answers had `path` as switches.
    const answer = json as Record<string, unknown>;
    const path = [answer['switches'], answer['path']].find((p): p is string[] => Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string'));
    return { id: String(id), ...(path ? { path } : {}) };
  }

  /** Deletes an intent; one that is already gone counts as deleted. */
  async remove(id: string): Promise<void> {
    const res = await this.request('DELETE', `/api/v1/intents/${encodeURIComponent(id)}`);
    await res.body?.cancel();
    if (res.status !== 404 && (res.status < 200 || res.status > 299))
      throw new IntentsError(res.status, `DELETE /api/v1/intents/${id}: ${res.status}`);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(this.base + path, {
        method,
        headers: { ...this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new IntentsError(0, `${method} ${path}: ${(err as Error).message}`);
    }
  }
}
