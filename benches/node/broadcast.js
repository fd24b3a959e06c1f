// Broadcast servers for benches/broadcast.py: every message received goes
// to every connection. `node broadcast.js uws|ws PORT [--deflate]`.
//
// uws: uWebSockets.js's topics, `app.publish` (its native binary, loaded
// as in echo.js); with --deflate its SHARED_COMPRESSOR (no context
// takeover: one compression per message for every subscriber).
// ws: Node ws (native bufferutil), a loop of `send` over `wss.clients`,
// as its users write it (ws has no broadcast of its own); with --deflate,
// permessage-deflate without context takeover, each send compressing.
'use strict';
const { uws, listened, wsServer } = require('./native');

const [kind, port] = process.argv.slice(2);
const deflate = process.argv.includes('--deflate');
const MAX = 64 << 20;

if (kind === 'uws') {
  const { App, DISABLED, SHARED_COMPRESSOR } = uws();
  const app = App();
  app
    .ws('/*', {
      compression: deflate ? SHARED_COMPRESSOR : DISABLED,
      maxPayloadLength: MAX,
      maxBackpressure: 1 << 30,
      idleTimeout: 0,
      open: (ws) => ws.subscribe('all'),
      message: (ws, message, isBinary) => {
        app.publish('all', message, isBinary, deflate);
      },
    })
    .listen('127.0.0.1', Number(port), listened(port));
} else if (kind === 'ws') {
  const { WebSocket } = require('ws');
  const wss = wsServer(port, {
    perMessageDeflate: deflate
      ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
      : false,
  });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
    });
  });
} else {
  console.error('usage: node broadcast.js uws|ws PORT [--deflate]');
  process.exit(2);
}
