// The network path from each sidecar's host to each replica's host, as the controller forwards it,
// with each link's level: what the bridge hands the sidecars so their spans can say which links a
// request crossed and how loaded they were. Paths come from the controller's REST API (asked when a
// pair first appears, when a link on it goes down, once a link or switch came up and the news settled
// (any path may be shorter now), and every `refreshMs` as a safety net for hosts that moved). While
// one of this bridge's intents carries a pair's traffic, its path is the intent's (from the intent's
// answer, then path_change events), which forwarding's /paths does not show; forwarding's answer
// also says over how many equal-cost paths it spreads connections. Levels come from the retained
// link states. A link state touches
// only the pairs whose path crosses that link (an index by link), so a link state costs O(1) unless
// its level changed, and then O(pairs on that link): never a pass over every host or flow.
import type { Logger } from 'pino';
import type { Clock, EventHint, Level, LinkStateHint } from './hints.ts';

export interface PathLink {
  readonly link: string;
  /** Absent while no link state for it has been seen. */
  readonly level?: Level;
}

/** What forwarding answers for two hosts: the links a flow without ports takes, and over how many
 *  equal-cost paths (this one among them) it hashes connections; 1 when this is the only one. */
export interface ForwardingPath {
  readonly links: readonly string[];
  readonly equalCost: number;
}

/** The path forwarding takes between two hosts, or undefined when the controller knows no path. */
export type PathFetcher = (src: string, dst: string) => Promise<ForwardingPath | undefined>;

/** A tracked path with each link's level now; `equalCost` > 1: a connection may be on another of that many. */
export interface KnownPath {
  readonly path: PathLink[];
  readonly equalCost: number;
}

interface Pair {
  readonly src: string;
  readonly dst: string;
  links: readonly string[] | undefined;
  /** Equal-cost paths forwarding spreads connections over (1 on an intent's path: it pins them). */
  equalCost: number;
  /** When to ask the controller again (0: at once). */
  nextAt: number;
  /** When its links were last asked for (-Infinity: never). */
  askedAt: number;
  /** Intents of this bridge between the two hosts: their path is the intent's, which forwarding's /paths does not show. */
  pins: number;
}

export interface PathBookOptions {
  readonly fetch: PathFetcher;
  readonly clock: Pick<Clock, 'now'>;
  /** Called when a tracked path or a level on one changed (the runner re-publishes). */
  readonly onChange: () => void;
  /** Every path is asked for again this often, so a link that came up is used (ms). */
  readonly refreshMs?: number;
  /** After a failed request (ms). */
  readonly retryMs?: number;
  /** After a link or switch came up, every path is asked for again once no other came up for this long (ms). */
  readonly settleMs?: number;
  readonly log?: Logger;
}

const keyOf = (src: string, dst: string): string => `${src}>${dst}`;

export class PathBook {
  private readonly levels = new Map<string, Level>();
  private readonly pairs = new Map<string, Pair>();
  /** link id → keys of the pairs whose path crosses it */
  private readonly byLink = new Map<string, Set<string>>();
  private pumping = false;
  private closed = false;
  private readonly refreshMs: number;
  private readonly retryMs: number;
  private readonly settleMs: number;
  /** The last link or switch to come up: paths asked for before it are due once it settled. */
  private grewAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: PathBookOptions) {
    this.refreshMs = opts.refreshMs ?? 30_000;
    this.retryMs = opts.retryMs ?? 5_000;
    this.settleMs = opts.settleMs ?? 1_000;
  }

  /** Folds a link state in; true when the level of a link on a tracked path changed. */
  onLinkState(h: LinkStateHint): boolean {
    if (this.levels.get(h.linkId) === h.level) return false;
    this.levels.set(h.linkId, h.level);
    const keys = this.byLink.get(h.linkId);
    if (keys === undefined) return false;
    if (h.level === 'down') this.due(keys);
    return true;
  }

  /**
   * link_down: the pairs over it are asked for again; link_up, switch_up: every pair, once the news
   * settled (a fabric coming up sends hundreds; one pass follows them all, from the runner's next
   * `track`); path_change (an intent moved): its pair takes the new links.
   */
  onEvent(h: EventHint): boolean {
    if (h.event === 'link_up' || h.event === 'switch_up') {
      this.grewAt = this.opts.clock.now();
      return false;
    }
    if (h.event === 'link_down' && h.linkId !== undefined) {
      this.levels.set(h.linkId, 'down');
      const keys = this.byLink.get(h.linkId);
      if (keys !== undefined) this.due(keys);
      return keys !== undefined;
    }
    if (h.event === 'path_change' && h.detail !== undefined) {
      const { src, dst, toLinks } = h.detail;
      if (typeof src !== 'string' || typeof dst !== 'string') return false;
      const pair = this.pairs.get(keyOf(src, dst));
      if (pair === undefined) return false;
      if (Array.isArray(toLinks) && toLinks.every((l) => typeof l === 'string')) {
        const changed = this.setLinks(pair, toLinks as string[], 1);
        pair.nextAt = this.opts.clock.now() + this.refreshMs;
        return changed;
      }
      // The intent lost its path: forwarding's own path applies again.
      pair.pins = 0;
      pair.nextAt = 0;
      this.pump();
    }
    return false;
  }

  /** Tracks exactly these (source host, destination host) pairs; new and due ones are asked for. */
  track(wanted: Iterable<readonly [string, string]>): void {
    const keep = new Set<string>();
    for (const [src, dst] of wanted) {
      const k = keyOf(src, dst);
      keep.add(k);
      if (!this.pairs.has(k)) this.pairs.set(k, { src, dst, links: undefined, equalCost: 1, nextAt: 0, askedAt: Number.NEGATIVE_INFINITY, pins: 0 });
    }
    for (const [k, pair] of this.pairs) {
      if (keep.has(k)) continue;
      this.setLinks(pair, undefined, 1);
      this.pairs.delete(k);
    }
    this.pump();
  }

  /** An intent between two hosts now carries the traffic: its links (when the controller said) replace forwarding's, and
   *  only path_change events move them until `unpin`. */
  pin(src: string, dst: string, links: readonly string[] | undefined): boolean {
    const pair = this.pairs.get(keyOf(src, dst));
    if (pair === undefined) return false;
    pair.pins++;
    return links !== undefined && this.setLinks(pair, links, 1);
  }

  /** The intent is withdrawn: forwarding's path applies again, asked for at once. */
  unpin(src: string, dst: string): void {
    const pair = this.pairs.get(keyOf(src, dst));
    if (pair === undefined) return;
    pair.pins = Math.max(0, pair.pins - 1);
    pair.nextAt = 0;
    this.pump();
  }

  /** The path between two hosts with each link's level now, or undefined when not known. */
  pathOf(src: string, dst: string): KnownPath | undefined {
    const pair = this.pairs.get(keyOf(src, dst));
    if (pair?.links === undefined) return undefined;
    const path = pair.links.map((link): PathLink => {
      const level = this.levels.get(link);
      return level === undefined ? { link } : { link, level };
    });
    return { path, equalCost: pair.equalCost };
  }

  close(): void {
    this.closed = true;
  }

  private due(keys: Iterable<string>): void {
    for (const k of keys) {
      const p = this.pairs.get(k);
      if (p) p.nextAt = 0;
    }
    this.pump();
  }

  /** Asks for due paths one at a time, off the policy run: a slow controller delays no weights. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void (async () => {
      try {
        for (;;) {
          const now = this.opts.clock.now();
          // One pass collects what is due (a pinned pair with known links follows its intent's
          // path_change events, not forwarding); then each is asked for in turn.
          const grown = now - this.grewAt >= this.settleMs ? this.grewAt : Number.NEGATIVE_INFINITY;
          const due: Pair[] = [];
          for (const p of this.pairs.values()) if ((p.nextAt <= now || p.askedAt < grown) && (p.pins === 0 || p.links === undefined)) due.push(p);
          if (due.length === 0) return;
          for (const pair of due) {
            if (this.closed) return;
            if (this.pairs.get(keyOf(pair.src, pair.dst)) !== pair) continue;
            pair.askedAt = this.opts.clock.now();
            try {
              const answer = await this.opts.fetch(pair.src, pair.dst);
              pair.nextAt = this.opts.clock.now() + this.refreshMs;
              if (this.pairs.get(keyOf(pair.src, pair.dst)) === pair && this.setLinks(pair, answer?.links, answer?.equalCost ?? 1)) this.opts.onChange();
            } catch (err) {
              pair.nextAt = this.opts.clock.now() + this.retryMs;
              this.opts.log?.debug({ err, src: pair.src, dst: pair.dst }, 'bridge: path not known; asking again later');
            }
          }
        }
      } finally {
        this.pumping = false;
      }
    })();
  }

  /** Replaces a pair's links and the index; true when they or the equal-cost count differ. */
  private setLinks(pair: Pair, links: readonly string[] | undefined, equalCost: number): boolean {
    const before = pair.links;
    const sameCount = pair.equalCost === equalCost;
    pair.equalCost = equalCost;
    if (before === links || (before !== undefined && links !== undefined && before.length === links.length && before.every((l, i) => l === links[i]))) return !sameCount;
    const k = keyOf(pair.src, pair.dst);
    for (const l of before ?? []) {
      const s = this.byLink.get(l);
      s?.delete(k);
      if (s?.size === 0) this.byLink.delete(l);
    }
    for (const l of links ?? []) {
      let s = this.byLink.get(l);
      if (s === undefined) this.byLink.set(l, (s = new Set()));
      s.add(k);
    }
    pair.links = links;
    return true;
  }
}
