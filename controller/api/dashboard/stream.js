// The page's end of /api/v1/stream: one WebSocket, reconnected with backoff whenever it drops (the
// server drops slow readers on purpose, and restarts happen); every connection starts with a hello.

/** A connect that has not opened by then is given up and tried again (a proxy or server that hangs). */
const CONNECT_TIMEOUT_MS = 4000;

export function connectStream({ onMessage, onStatus, path = '/api/v1/stream' }) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
  let delayMs = 500;
  let socket;
  let stopped = false;
  let timer;

  function open() {
    onStatus('connecting');
    const current = new WebSocket(url);
    socket = current;
    const hung = setTimeout(() => current.close(), CONNECT_TIMEOUT_MS);
    current.addEventListener('open', () => {
      clearTimeout(hung);
      delayMs = 500;
      onStatus('live');
    });
    current.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not ours to interpret; the server only sends JSON
      }
      if (msg && typeof msg.kind === 'string') onMessage(msg);
    });
    current.addEventListener('close', () => {
      clearTimeout(hung);
      if (stopped) return;
      onStatus('reconnecting');
      timer = setTimeout(open, delayMs);
      delayMs = Math.min(delayMs * 2, 10_000);
    });
  }

  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    },
  };
}
