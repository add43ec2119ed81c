// A real WebSocket client for tests that keeps every frame it receives, so a test can wait for the
// message it expects (with a deadline) and then look at what came before.
import WebSocket from 'ws';
import { waitFor } from '../support/wait.ts';

export interface Frame {
  readonly isBinary: boolean;
  readonly data: Record<string, unknown>;
}

export class Inbox {
  readonly frames: Frame[] = [];
  closed = false;
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw, isBinary) => {
      const data: unknown = JSON.parse(raw.toString());
      if (typeof data !== 'object' || data === null) throw new Error(`not a JSON object: ${raw.toString()}`);
      this.frames.push({ isBinary, data: data as Record<string, unknown> });
    });
    socket.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    socket.on('error', () => undefined); // a dropped client sees an error first; the test looks at `closed`
  }

  static async open(url: string): Promise<Inbox> {
    const socket = new WebSocket(url);
    const inbox = new Inbox(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return inbox;
  }

  get messages(): Record<string, unknown>[] {
    return this.frames.map((f) => f.data);
  }

  /** Waits for the first message (from `from` on) that matches, and returns it. */
  next(what: string, match: (m: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return waitFor(what, () => this.messages.find(match), { timeoutMs, intervalMs: 10 });
  }

  close(): void {
    if (!this.closed) this.socket.terminate();
  }
}
