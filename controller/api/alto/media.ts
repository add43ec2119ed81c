// ALTO's media types (RFC 7285 §14.1) and the one content-negotiation question the server asks:
// does the client's Accept header allow this type?

export const MEDIA = {
  directory: 'application/alto-directory+json',
  networkMap: 'application/alto-networkmap+json',
  costMap: 'application/alto-costmap+json',
  costMapFilter: 'application/alto-costmapfilter+json',
  error: 'application/alto-error+json',
} as const;

export type MediaType = (typeof MEDIA)[keyof typeof MEDIA];

interface Range {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function parseRange(part: string): Range | undefined {
  const [range = '', ...params] = part.split(';').map((s) => s.trim());
  const m = /^([!#$%&'*+.^_`|~0-9a-z-]+)\/([!#$%&'*+.^_`|~0-9a-z-]+)$/i.exec(range);
  if (!m?.[1] || !m[2]) return undefined;
  let q = 1;
  for (const p of params) {
    const qm = /^q\s*=\s*([0-9.]+)$/i.exec(p);
    if (qm?.[1] !== undefined) q = Number(qm[1]);
  }
  return { type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), q: Number.isFinite(q) ? q : 0 };
}

/**
 * Whether `accept` allows `media`: no header allows anything; otherwise the most specific matching
 * range decides (RFC 9110 §12.5.1), so `*\/*, application/alto-costmap+json;q=0` refuses the cost map.
 */
export function accepts(accept: string | undefined, media: string): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const [type, subtype] = media.toLowerCase().split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const part of accept.split(',')) {
    const r = parseRange(part);
    if (r === undefined) continue;
    const specificity =
      r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    if (best === undefined || specificity > best.specificity) best = { specificity, q: r.q };
  }
  return best !== undefined && best.q > 0;
}

/** The media type of a Content-Type header, without parameters, lower case. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t === '' ? undefined : t;
}
