// One measured request, as the generator writes it (one JSON object per line) and the report reads it.

export interface RequestRecord {
  /** When the request was due (ms since epoch): the open-loop schedule, the latency's zero. */
  readonly due: number;
  /** Due time to the last byte of the response, or to the failure (ms). */
  readonly latencyMs: number;
  /** HTTP status, 0 when no response came (connect error, timeout). */
  readonly status: number;
  /** The replica the sidecar chose (its x-meshflow-replica header), when there was a response. */
  readonly replica?: string;
  /** The stream this request belongs to (the generator's --tag: a traffic class in the priority lab). */
  readonly tag: string;
  /** Why it failed, when it did. */
  readonly error?: string;
  /** Response body bytes received. */
  readonly bytes: number;
  /** The class the last service hop saw (its x-meshflow-class answer header), when it said. */
  readonly seenClass?: string;
  /** With --trace: whether the last hop saw the trace this request was sent in (traceKept()). */
  readonly traceKept?: boolean;
}

/**
 * Whether a traceparent the last hop saw continues the one a request was sent with: the same
 * version and trace id. The parent id is each hop's own (a sidecar that writes spans sends its
 * span on as the parent), so it is not compared.
 */
export function traceKept(sent: string, seen: string | undefined): boolean {
  if (seen === undefined) return false;
  const [v1, t1] = sent.split('-');
  const [v2, t2] = seen.split('-');
  return t1 !== undefined && v1 === v2 && t1 === t2;
}

export function isError(r: RequestRecord): boolean {
  return r.status === 0 || r.status >= 500;
}

/** Parses generator output, skipping lines that are not records (a torn last line while it still writes). */
export function parseRecords(text: string): RequestRecord[] {
  const out: RequestRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as Partial<RequestRecord>;
      if (typeof v.due === 'number' && typeof v.latencyMs === 'number' && typeof v.status === 'number' && typeof v.tag === 'string') {
        out.push(v as RequestRecord);
      }
    } catch {
      // an incomplete line: the next read gets it whole
    }
  }
  return out;
}
