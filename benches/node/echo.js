// Echo servers for benches/matrix.py: `node echo.js uws|ws PORT`.
//
// uws is uWebSockets.js v20.30.0 (the @trufflesuite republish of its
// binaries), ws is Node's ws with its native bufferutil; native.js loads
// both so that a JavaScript fallback cannot pass for them.
'use strict';
const { uws, listened, wsServer } = require('./native');

const [kind, port] = process.argv.slice(2);
const MAX = 64 << 20;

if (kind === 'uws') {
  const { App, DISABLED } = uws();
  App()
    .ws('/*', {
      compression: DISABLED,
      maxPayloadLength: MAX,
      // Echoes of large messages queue more than the 64 KiB default; above
      // the limit uWS would drop them, not hold them.
      maxBackpressure: 1 << 30,
      idleTimeout: 0,
      message: (ws, message, isBinary) => {
        ws.send(message, isBinary);
      },
    })
    .listen('127.0.0.1', Number(port), listened(port));
} else if (kind === 'ws') {
  const server = wsServer(port, { perMessageDeflate: false });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
} else {
  console.error('usage: node echo.js uws|ws PORT');
  process.exit(2);
}
