// The OpenFlow listener's guard flags: TLS files and connection limits, checked before anything
// starts (a bad value exits 2 naming the flag, like every other flag).
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Command } from 'commander';
import { intOption, msOption } from './options.ts';
import { BadFileError } from './files.ts';
import { EXIT } from './failures.ts';
import { DEFAULT_OF_HOST } from '../controller/controller.ts';
import { readTlsFiles, type OpenFlowTlsFiles } from '../controller/listener-tls.ts';
import { DEFAULT_LISTENER_LIMITS, type ListenerLimits } from '../controller/listener-limits.ts';

export interface OpenFlowGuardFlags {
  readonly ofTlsKey?: string;
  readonly ofTlsCert?: string;
  readonly ofTlsCa?: string;
  readonly ofMaxConnections: number;
  readonly ofMaxUnready: number;
  readonly ofHandshakeTimeout: number;
}

class FlagError extends Error {
  readonly exitCode = EXIT.usage;
}

export { DEFAULT_OF_HOST };

export function addOpenFlowGuardOptions(cmd: Command): Command {
  const d = DEFAULT_LISTENER_LIMITS;
  return cmd
    .option('--of-tls-key <file>', "OpenFlow over TLS: the controller's private key (ovs-pki: ctl-privkey.pem); needs --of-tls-cert and --of-tls-ca")
    .option('--of-tls-cert <file>', "OpenFlow over TLS: the controller's certificate (ovs-pki: ctl-cert.pem)")
    .option('--of-tls-ca <file>', 'OpenFlow over TLS: the CA that signs switch certificates, required of every switch (ovs-pki: switchca/cacert.pem)')
    .option('--of-max-connections <n>', 'OpenFlow connections open at most, ready switches included (default: half the open-files limit, 4096 at most)', intOption, d.maxConnections)
    .option('--of-max-unready <n>', 'OpenFlow connections in their handshake at most; beyond it the oldest is closed', intOption, d.maxUnready)
    .option('--of-handshake-timeout <ms>', 'a connection that has not completed the OpenFlow handshake (TLS included) within this is closed (100..600000)', msOption(100, 600_000, 'OpenFlow handshake deadline'), d.handshakeTimeoutMs);
}

/** The listener's settings from the flags, or an error naming the flag at fault. */
export function openFlowGuard(o: OpenFlowGuardFlags): { ofTls?: OpenFlowTlsFiles; ofLimits: Partial<ListenerLimits> } {
  if (o.ofMaxConnections < 1) throw new FlagError(`--of-max-connections must be at least 1, got ${o.ofMaxConnections}`);
  if (o.ofMaxUnready < 1) throw new FlagError(`--of-max-unready must be at least 1, got ${o.ofMaxUnready}`);
  if (o.ofMaxUnready > o.ofMaxConnections) {
    throw new FlagError(`--of-max-unready (${o.ofMaxUnready}) cannot exceed --of-max-connections (${o.ofMaxConnections})`);
  }
  const ofLimits = { maxConnections: o.ofMaxConnections, maxUnready: o.ofMaxUnready, handshakeTimeoutMs: o.ofHandshakeTimeout };
  const given = { '--of-tls-key': o.ofTlsKey, '--of-tls-cert': o.ofTlsCert, '--of-tls-ca': o.ofTlsCa };
  const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length === 3) return { ofLimits };
  if (missing.length > 0) throw new FlagError(`OpenFlow over TLS needs --of-tls-key, --of-tls-cert and --of-tls-ca together: ${missing.join(', ')} missing`);
  const files = { key: o.ofTlsKey!, cert: o.ofTlsCert!, ca: o.ofTlsCa! };
  for (const [flag, file] of Object.entries(given)) {
    try {
      readFileSync(file!);
    } catch (err) {
      throw new BadFileError(`OpenFlow TLS file ${file} (${flag}): ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}: check the path given with ${flag}.`);
    }
  }
  try {
    createSecureContext(readTlsFiles(files));
  } catch (err) {
    throw new BadFileError(`OpenFlow TLS files (--of-tls-key ${files.key}, --of-tls-cert ${files.cert}, --of-tls-ca ${files.ca}) do not make a TLS identity: ${(err as Error).message}`);
  }
  return { ofTls: files, ofLimits };
}
