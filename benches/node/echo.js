// Echo servers for benches/matrix.py: `node echo.js uws|ws PORT`.
//
// uws is uWebSockets.js v20.30.0 (the @trufflesuite republish of its
// binaries). Its package falls back to a JavaScript emulation when the
// native binary does not load, which would make the peer a fake, so the
// .node binary is loaded directly and a failure ends the process.
// ws is Node's ws with its native bufferutil (masking in C), checked the
// same way.
'use strict';
const path = require('path');

const [kind, port] = process.argv.slice(2);
const MAX = 64 << 20;

function uws() {
  const dir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return require(path.join(dir, 'binaries', file));
}

function nativeBufferutil() {
  const dir = path.dirname(require.resolve('bufferutil'));
  const native = require('node-gyp-build')(dir);
  if (require('bufferutil').mask !== native.mask) {
    throw new Error('bufferutil is its JavaScript fallback');
  }
}

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
    .listen('127.0.0.1', Number(port), (token) => {
      if (!token) {
        console.error(`uws: cannot listen on ${port}`);
        process.exit(1);
      }
    });
} else if (kind === 'ws') {
  nativeBufferutil();
  const { WebSocketServer } = require('ws');
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: Number(port),
    perMessageDeflate: false,
    maxPayload: MAX,
  });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
} else {
  console.error('usage: node echo.js uws|ws PORT');
  process.exit(2);
}
