// The page's end of /api/v1/stream: one WebSocket, reconnected with backoff whenever it drops (the
// server drops slow readers on purpose, and restarts happen); every connection starts with a hello.

export function connectStream({ onMessage, onStatus, path = '/api/v1/stream' }) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
  let delayMs = 500;
  let socket;
  let stopped = false;
  let timer;

  function open() {
    onStatus('connecting');
    socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      delayMs = 500;
      onStatus('live');
    });
    socket.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not ours to interpret; the server only sends JSON
      }
      if (msg && typeof msg.kind === 'string') onMessage(msg);
    });
    socket.addEventListener('close', () => {
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
