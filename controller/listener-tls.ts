// OpenFlow over TLS (Open vSwitch `ssl:` controller targets). The controller shows its own
// certificate and requires one from every switch, signed by the switch CA it is given (`ovs-pki`'s
// switchca). Verification is OpenSSL's, through a tls.Server that never listens itself: the
// listener hands it each accepted TCP socket, so connection limits and the handshake deadline
// apply from the first byte, TLS handshake included.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';

/** PEM files, as `ovs-pki` writes them. */
export interface OpenFlowTlsFiles {
  /** The controller's private key (ctl-privkey.pem). */
  readonly key: string;
  /** The controller's certificate (ctl-cert.pem). */
  readonly cert: string;
  /** The CA that signs switch certificates (pki/switchca/cacert.pem). */
  readonly ca: string;
}

/** Who a switch proved to be during the TLS handshake. */
export interface TlsPeer {
  /** SHA-256 fingerprint of the certificate the switch showed. */
  readonly fingerprint: string;
  /** Its subject's common name (ovs-pki: "<name> id:<uuid>"). */
  readonly commonName: string;
}

/** A switch showed a certificate the switch CA signed. */
export type OnSecure = (socket: TLSSocket, peer: TlsPeer) => void;
/** A handshake failed (not TLS, no certificate, a certificate from another CA, ...). */
export type OnTlsFailure = (reason: string) => void;

/** Reads the files now, so that a missing or unreadable one stops the start naming it. */
export function readTlsFiles(files: OpenFlowTlsFiles): { key: Buffer; cert: Buffer; ca: Buffer } {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`OpenFlow TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return { key: read('key', files.key), cert: read('certificate', files.cert), ca: read('CA certificate', files.ca) };
}

/** Runs the TLS handshake on sockets the OpenFlow listener accepted. */
export class OpenFlowTls {
  private readonly server: TlsServer;
  /** Who waits for each handshake, by the TCP peer's address (unique among open connections). */
  private readonly waiting = new Map<string, OnSecure>();

  constructor(files: OpenFlowTlsFiles, failed: OnTlsFailure) {
    const pem = readTlsFiles(files);
    // rejectUnauthorized is off so that a refused certificate reaches us with its reason and is
    // counted; nothing but an authorized socket is ever handed on.
    this.server = createServer({ ...pem, requestCert: true, rejectUnauthorized: false });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      if (!socket.authorized) {
        failed(`switch certificate refused: ${String(socket.authorizationError ?? 'none shown')}`);
        socket.destroy();
        return;
      }
      const secure = this.waiting.get(peerKey(socket));
      if (secure === undefined) {
        socket.destroy();
        return;
      }
      const cert = socket.getPeerCertificate();
      secure(socket, { fingerprint: cert.fingerprint256, commonName: typeof cert.subject?.CN === 'string' ? cert.subject.CN : '' });
    });
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      // A reset mid-handshake is a peer (or our deadline) going away, counted where it happens.
      if (err.code !== 'ECONNRESET') failed(`TLS handshake failed: ${err.code ?? err.message}`);
    });
  }

  /** Starts the handshake on an accepted TCP socket. */
  handshake(raw: Socket, secure: OnSecure): void {
    const key = peerKey(raw);
    this.waiting.set(key, secure);
    raw.once('close', () => this.waiting.delete(key));
    this.server.emit('connection', raw);
  }
}

const peerKey = (s: Socket): string => `${s.remoteAddress ?? '?'}|${s.remotePort ?? 0}`;
