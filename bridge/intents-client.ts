// The controller's intents API, spoken as any outside program would: REST over HTTP.
import type { IntentSpec } from './policy.ts';
import { EQUAL_COST_MAX } from './hints.ts';
import type { ForwardingPath } from './paths.ts';

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
  /** The links of that path in order, when it says. */
  readonly links?: readonly string[];
}

export interface IntentsClientOptions {
  /** Bearer token the controller requires on mutating requests, when it is configured with one. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

export class IntentsClient {
  private readonly bases: readonly string[];
  /** The controller that answered last: a group's controllers are tried from it on. */
  private current = 0;
  private readonly timeoutMs: number;
  private readonly auth: Record<string, string>;

  /** `baseUrl`: one controller, or a group's as a comma list (intents go to the one that speaks for the group). */
  constructor(baseUrl: string, opts: IntentsClientOptions = {}) {
    this.bases = baseUrl.split(',').map((u) => u.trim().replace(/\/+$/, '')).filter((u) => u !== '');
    if (this.bases.length === 0) throw new Error('no controller URL');
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
    const links = answer['links'];
    const linkIds = Array.isArray(links) && links.every((x) => typeof x === 'string') ? (links as string[]) : undefined;
    return { id: String(id), ...(path ? { path } : {}), ...(linkIds ? { links: linkIds } : {}) };
  }

  /** The links (in order) forwarding takes between two hosts now, and over how many equal-cost paths
   *  it spreads connections (`GET /api/v1/paths`); undefined when the controller knows no path or no such host. */
  async path(src: string, dst: string): Promise<ForwardingPath | undefined> {
    const res = await this.request('GET', `/api/v1/paths?src=${encodeURIComponent(src)}&dst=${encodeURIComponent(dst)}`);
    if (res.status === 404 || res.status === 400) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) throw new IntentsError(res.status, `GET /api/v1/paths: ${res.status}`);
    const answer = (await res.json()) as Record<string, unknown>;
    const links = answer['links'];
    if (!Array.isArray(links) || !links.every((l) => typeof l === 'string')) throw new IntentsError(res.status, 'GET /api/v1/paths: answer has no links');
    const candidates = answer['equalCostPaths'];
    // Capped at what the weights hint's schema takes: a larger set says no more about one span's path.
    const equalCost = answer['ecmp'] === true && Array.isArray(candidates) ? Math.min(EQUAL_COST_MAX, Math.max(1, candidates.length)) : 1;
    return { links: links as string[], equalCost };
  }

  /** Deletes an intent; one that is already gone counts as deleted. */
  async remove(id: string): Promise<void> {
    const res = await this.request('DELETE', `/api/v1/intents/${encodeURIComponent(id)}`);
    await res.body?.cancel();
    if (res.status !== 404 && (res.status < 200 || res.status > 299))
      throw new IntentsError(res.status, `DELETE /api/v1/intents/${id}: ${res.status}`);
  }

  /**
   * Sends to the controller that answered last; one that can't be reached, or that does not speak
   * for its group (409 not_voice), hands the request to the next of the group. The last answer is
   * returned as it is; a network failure of every one throws.
   */
  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    let failure = '';
    for (let tried = 0; tried < this.bases.length; tried++) {
      const i = (this.current + tried) % this.bases.length;
      let res: Response;
      try {
        res = await fetch(this.bases[i] + path, {
          method,
          headers: { ...this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        failure = `${this.bases[i]}: ${(err as Error).message}`;
        continue;
      }
      if (res.status === 409 && tried < this.bases.length - 1 && (await notVoice(res.clone()))) {
        await res.body?.cancel();
        continue;
      }
      this.current = i;
      return res;
    }
    throw new IntentsError(0, `${method} ${path}: ${failure}`);
  }
}

async function notVoice(res: Response): Promise<boolean> {
  const json: unknown = await res.json().catch(() => undefined);
  return typeof json === 'object' && json !== null && (json as Record<string, unknown>)['error'] === 'not_voice';
}
