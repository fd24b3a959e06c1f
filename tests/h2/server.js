// A WebSocket echo server over HTTP/2 (RFC 8441) written with Node's
// built-in http2 module, Node ws's Receiver and Sender framing the
// messages: the peer for sockweave's HTTP/2 client.
//
//   node tests/h2/server.js PORT [--tls CERT KEY] [--no-connect-protocol]
//
// Echoes text and binary; the text `close:CODE:REASON` makes it close with
// that code and reason; a close is answered with the same code and reason.
// Selects subprotocol `chat` when offered. With --no-connect-protocol the
// server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL; over TLS it
// then also speaks HTTP/1.1 (ALPN) and takes WebSocket upgrades there, so a
// client can fall back. Logs one line per WebSocket: `websocket h2` or
// `websocket http/1.1`.
'use strict';
const http2 = require('node:http2');
const fs = require('node:fs');
const path = require('node:path');
const ws = require(path.join(__dirname, '../interop/node/node_modules/ws'));
const { Receiver, Sender } = ws;

const args = process.argv.slice(2);
const port = Number(args[0]);
const tlsIndex = args.indexOf('--tls');
const enableConnectProtocol = !args.includes('--no-connect-protocol');
const settings = { enableConnectProtocol };

function echo(duplex) {
  const receiver = new Receiver({ isServer: true, maxPayload: 0 });
  const sender = new Sender(duplex);
  sender.onerror = () => duplex.destroy();
  receiver.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text && text.startsWith('close:')) {
      const [, code, ...reason] = text.split(':');
      sender.close(Number(code), reason.join(':'), false);
      return;
    }
    sender.send(data, { binary: isBinary, fin: true, mask: false });
  });
  receiver.on('ping', (data) => sender.pong(data, false));
  receiver.on('conclude', (code, reason) => {
    sender.close(code === 1005 ? undefined : code, reason, false, () => duplex.end());
  });
  receiver.on('error', (e) => {
    sender.close(e[Symbol.for('status-code')] || 1002, '', false, () => duplex.end());
  });
  duplex.on('error', () => {});
  duplex.pipe(receiver);
}

const server = tlsIndex >= 0
  ? http2.createSecureServer({
    cert: fs.readFileSync(args[tlsIndex + 1]),
    key: fs.readFileSync(args[tlsIndex + 2]),
    allowHTTP1: !enableConnectProtocol,
    settings,
  })
  : http2.createServer({ settings });

server.on('stream', (stream, headers) => {
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket'
    || headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 400 }, { endStream: true });
    return;
  }
  const offered = (headers['sec-websocket-protocol'] || '').split(',').map((p) => p.trim());
  const response = { ':status': 200 };
  if (offered.includes('chat')) response['sec-websocket-protocol'] = 'chat';
  stream.respond(response);
  console.log('websocket h2');
  echo(stream);
});

// HTTP/1.1 upgrades, for clients that fall back (TLS with allowHTTP1).
const wss = new ws.WebSocketServer({ noServer: true, maxPayload: 0 });
server.on('upgrade', (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (socket) => {
    console.log('websocket http/1.1');
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (text && text.startsWith('close:')) {
        const [, code, ...reason] = text.split(':');
        socket.close(Number(code), reason.join(':'));
      } else {
        socket.send(data, { binary: isBinary });
      }
    });
  });
});

server.listen(port, '127.0.0.1');
