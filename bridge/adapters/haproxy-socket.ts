// HAProxy's runtime API over its UNIX stats socket: one command per connection
// (non-interactive mode), the answer is everything until HAProxy closes.
import { createConnection } from 'node:net';

export function runtimeCommand(socketPath: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = createConnection(socketPath);
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`haproxy ${socketPath}: no answer to "${command}" in ${timeoutMs} ms`)));
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export interface ServerState {
  readonly name: string;
  /** The weight currently in force (HAProxy's srv_uweight), 0..256. */
  readonly weight: number;
  readonly initialWeight: number;
  readonly address: string;
  /** The server has an enabled agent-check: the meshflow agent sets its weight (haproxy-agent.ts). Absent when HAProxy does not say. */
  readonly agentCheck?: boolean;
}

/** HAProxy's CHK_ST_ENABLED bit in srv_agent_state. */
const CHECK_ENABLED = 0x4;

/** Parses `show servers state <backend>`: a version line, a `#` header naming columns, rows. */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) throw new Error(`haproxy: unexpected "show servers state" answer: ${text.slice(0, 200)}`);
  const cols = header.replace(/^#\s*/, '').split(/\s+/);
  const col = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`haproxy: "show servers state" has no column ${name}`);
    return i;
  };
  const [iName, iUw, iIw, iAddr] = [col('srv_name'), col('srv_uweight'), col('srv_iweight'), col('srv_addr')];
  const iAgent = cols.indexOf('srv_agent_state');
  return lines
    .filter((l) => !l.startsWith('#') && /\s/.test(l))
    .map((l) => l.split(/\s+/))
    .map((f) => ({
      name: f[iName] ?? '',
      weight: Number(f[iUw]),
      initialWeight: Number(f[iIw]),
      address: f[iAddr] ?? '',
      ...(iAgent < 0 ? {} : { agentCheck: (Number(f[iAgent]) & CHECK_ENABLED) !== 0 }),
    }));
}
