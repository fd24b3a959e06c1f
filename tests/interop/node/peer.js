// Node's `ws` as the other end of sockweave's interop tests.
//
//   node peer.js client URL SMALL_URL [--ca FILE] [--deflate]
//     Runs the client checks against a sockweave echo server at URL (which
//     accepts the subprotocol `chat`) and SMALL_URL (the same server with
//     --max-message 1024). Exits 1 with the failed check on stderr. With
//     --deflate, offers permessage-deflate and checks it was negotiated.
//
//   node peer.js server PORT [--cert FILE --key FILE] [--deflate]
//     An echo server for sockweave's interop_client: selects `chat` when
//     offered (and nothing otherwise), answers the text `close:CODE:REASON`
//     by closing with that code and reason. With --deflate, accepts
//     permessage-deflate offers.

'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocket, WebSocketServer } = require('ws');

const deflate = process.argv.includes('--deflate');

function option(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function describe(data, isBinary) {
  const kind = isBinary ? 'binary' : 'text';
  return data.length <= 40 ? `${kind} ${JSON.stringify(data.toString())}` : `${kind} of ${data.length} bytes`;
}

// A connection whose messages and pongs can be awaited in order.
function open(url, protocols, ca) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { ca, maxPayload: 64 << 20, perMessageDeflate: deflate });
    const messages = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const message = { data, isBinary };
      if (waiters.length) waiters.shift()(message);
      else messages.push(message);
    });
    ws.next = () =>
      messages.length ? Promise.resolve(messages.shift()) : new Promise((r) => waiters.push(r));
    ws.closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function echo(ws, data) {
  const isBinary = typeof data !== 'string';
  ws.send(data);
  const back = await ws.next();
  const sent = isBinary ? data : Buffer.from(data);
  check(back.isBinary === isBinary && Buffer.compare(back.data, sent) === 0,
    `${describe(sent, isBinary)} came back as ${describe(back.data, back.isBinary)}`);
}

async function messages(url, ca) {
  const ws = await open(url, ['chat', 'superchat'], ca);
  check(ws.protocol === 'chat', `selected ${JSON.stringify(ws.protocol)}, expected chat`);
  check(ws.extensions.includes('permessage-deflate') === deflate,
    `extensions ${JSON.stringify(ws.extensions)} with --deflate ${deflate}`);
  const big = Buffer.alloc(16 << 20);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  for (const data of ['hello', 'κόσμε, 𝄞 and 🎉: two-, three- and four-byte UTF-8', '',
    Buffer.alloc(0), all, big]) {
    await echo(ws, data);
  }
  // fin: false sends a fragment; the first one fixes the kind.
  ws.send('frag', { fin: false });
  ws.send('𝄞', { fin: false });
  ws.send('mented', { fin: true });
  let back = await ws.next();
  check(!back.isBinary && back.data.toString() === 'frag𝄞mented',
    `fragmented text came back as ${describe(back.data, back.isBinary)}`);
  ws.send(Buffer.from([0, 1]), { fin: false });
  ws.send(Buffer.alloc(0), { fin: false });
  ws.send(Buffer.from([0xfe, 0xff]), { fin: true });
  back = await ws.next();
  check(back.isBinary && Buffer.compare(back.data, Buffer.from([0, 1, 0xfe, 0xff])) === 0,
    `fragmented binary came back as ${describe(back.data, back.isBinary)}`);
  const pong = new Promise((r) => ws.once('pong', r));
  ws.ping(Buffer.from('are you there'));
  check((await pong).toString() === 'are you there', 'pong payload');
  ws.close(4001, 'client says bye 𝄞');
  const closed = await ws.closed;
  check(closed.code === 4001, `our close came back as ${JSON.stringify(closed)}`);
}

async function noCommonProtocol(url, ca) {
  // ws refuses a server that selects none of the offered subprotocols
  // ("Server sent no subprotocol"), which RFC 6455 §4.1 allows; browsers
  // accept it. So ws sees our correct answer as a failed handshake.
  try {
    const ws = await open(url, ['other'], ca);
    check(ws.protocol === '', `server picked ${JSON.stringify(ws.protocol)} from [other]`);
    ws.close();
  } catch (e) {
    check(/Server sent no subprotocol/.test(e.message), `unexpected: ${e.message}`);
  }
  // Offering nothing: no protocol, and messages flow.
  const ws = await open(url, [], ca);
  check(ws.protocol === '', `server picked ${JSON.stringify(ws.protocol)} from nothing`);
  await echo(ws, 'still works');
  ws.close(1000);
  await ws.closed;
}

async function serverCloses(url, ca) {
  const ws = await open(url, [], ca);
  ws.send('x'.repeat(2000));
  const closed = await ws.closed;
  check(closed.code === 1009 && closed.reason.length > 0,
    `server's close arrived as ${JSON.stringify(closed)}`);
}

async function runClient(args) {
  const [url, smallUrl] = args;
  const caFile = option(args, '--ca');
  const ca = caFile ? fs.readFileSync(caFile) : undefined;
  for (const [name, run] of [['messages', () => messages(url, ca)],
    ['no common protocol', () => noCommonProtocol(url, ca)],
    ['server-initiated close', () => serverCloses(smallUrl, ca)]]) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out after 60 s')), 60000);
    });
    try {
      await Promise.race([run(), timeout]);
    } catch (e) {
      console.error(`node client: ${name}: ${e.message}`);
      process.exit(1);
    } finally {
      clearTimeout(timer);
    }
  }
  process.exit(0);
}

function runServer(args) {
  const port = Number(args[0]);
  const cert = option(args, '--cert');
  const server = cert
    ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(option(args, '--key')) })
    : http.createServer();
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 << 20,
    perMessageDeflate: deflate,
    handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
  });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('close:')) {
        const [, code, ...reason] = text.split(':');
        ws.close(Number(code), reason.join(':'));
      } else {
        ws.send(data, { binary: isBinary });
      }
    });
  });
  server.listen(port, '127.0.0.1');
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'client') runClient(rest);
else if (mode === 'server') runServer(rest);
else {
  console.error('usage: node peer.js client URL SMALL_URL [--ca FILE] | server PORT [--cert F --key F]');
  process.exit(2);
}
