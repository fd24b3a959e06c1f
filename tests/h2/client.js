// WebSockets over HTTP/2 (RFC 8441) with an implementation nobody here
// wrote: Node's built-in http2 module opens the streams, Node ws's
// Receiver and Sender frame the messages, against a sockweave server.
//
//   node tests/h2/client.js URL [--ca FILE]
//
// URL is http://HOST:PORT (h2c, prior knowledge) or https://HOST:PORT
// (h2 by ALPN); the server must echo at /echo. Prints one line per check
// and exits 1 if any failed.
'use strict';
const http2 = require('node:http2');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { Receiver, Sender } = require(path.join(__dirname, '../interop/node/node_modules/ws'));

const args = process.argv.slice(2);
const url = args[0];
const caIndex = args.indexOf('--ca');
const ca = caIndex >= 0 ? fs.readFileSync(args[caIndex + 1]) : undefined;
let failed = 0;

function check(ok, label, detail) {
  console.log(`${ok ? 'ok     ' : 'FAILED '} h2: ${label}${ok || detail === undefined ? '' : ` (${detail})`}`);
  if (!ok) failed++;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An HTTP/2 session whose server SETTINGS have arrived. */
async function session() {
  const client = http2.connect(url, { ca, settings: { initialWindowSize: 1 << 20 } });
  client.on('error', () => {});
  const settings = await withTimeout(
    new Promise((resolve) => client.once('remoteSettings', resolve)), 5000, 'SETTINGS');
  return { client, settings };
}

/** Sends a request and waits for its response head. */
function request(client, headers) {
  const stream = client.request(headers, { endStream: false });
  stream.on('error', () => {});
  return withTimeout(new Promise((resolve, reject) => {
    stream.once('response', (head) => resolve({ stream, head }));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`stream closed (code ${stream.rstCode})`)));
  }), 5000, 'response');
}

function connectHeaders(extra = {}) {
  const u = new URL(url);
  return {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': u.protocol.replace(':', ''),
    ':authority': u.host,
    ':path': '/echo',
    'sec-websocket-version': '13',
    ...extra,
  };
}

/** A WebSocket client on one HTTP/2 stream, framed by Node ws. */
class Socket {
  constructor(stream) {
    this.stream = stream;
    this.events = [];
    this.waiters = [];
    this.sender = new Sender(stream);
    this.sender.onerror = () => {};
    const receiver = new Receiver({ isServer: false, maxPayload: 0 });
    const push = (event) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(event); else this.events.push(event);
    };
    receiver.on('message', (data, binary) => push({ type: 'message', data: Buffer.from(data), binary }));
    receiver.on('ping', (data) => push({ type: 'ping', data }));
    receiver.on('pong', (data) => push({ type: 'pong', data }));
    receiver.on('conclude', (code, reason) => push({ type: 'close', code, reason: reason.toString() }));
    receiver.on('error', (e) => push({ type: 'error', error: e }));
    stream.pipe(receiver);
    this.ended = new Promise((resolve) => stream.once('end', resolve));
  }

  next(ms = 10000) {
    const event = this.events.shift();
    if (event) return Promise.resolve(event);
    return withTimeout(new Promise((resolve) => this.waiters.push(resolve)), ms, 'next event');
  }

  send(data, binary) {
    this.sender.send(data, { binary, mask: true, fin: true });
  }
}

async function openSocket(client, extra) {
  const { stream, head } = await request(client, connectHeaders(extra));
  if (head[':status'] !== 200) throw new Error(`status ${head[':status']}`);
  return { socket: new Socket(stream), head };
}

async function echoes(socket, data, binary) {
  socket.send(data, binary);
  const event = await socket.next(30000);
  const want = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return event.type === 'message' && event.binary === binary && event.data.equals(want);
}

async function main() {
  const { client, settings } = await session();
  check(settings.enableConnectProtocol === true, 'server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL',
    JSON.stringify(settings));

  const { socket, head } = await openSocket(client, { 'sec-websocket-protocol': 'chat, other' });
  check(head[':status'] === 200 && head['sec-websocket-accept'] === undefined
    && head['content-length'] === undefined, '2xx with no accept key and no content-length',
  JSON.stringify(head));
  check(head['sec-websocket-protocol'] === 'chat', 'subprotocol selected', head['sec-websocket-protocol']);

  check(await echoes(socket, 'four-byte UTF-8: 😀 𝄞 ✓', false), 'text with 4-byte UTF-8 echoed');
  check(await echoes(socket, crypto.randomBytes(1000), true), 'binary echoed');
  check(await echoes(socket, '', false), 'empty text echoed');
  check(await echoes(socket, Buffer.alloc(0), true), 'empty binary echoed');
  const big = crypto.randomBytes(16 << 20);
  check(await echoes(socket, big, true), '16 MiB each way (flow control does not stall)');

  socket.sender.send('frag', { binary: false, mask: true, fin: false });
  socket.sender.send('mented ✓', { binary: false, mask: true, fin: true });
  const whole = await socket.next();
  check(whole.type === 'message' && whole.data.toString() === 'fragmented ✓', 'fragmented message echoed whole');

  socket.sender.ping(Buffer.from('are you there?'), true);
  const pong = await socket.next();
  check(pong.type === 'pong' && pong.data.toString() === 'are you there?', 'ping answered with its payload');

  socket.sender.close(4001, 'bye ✓', true);
  const closed = await socket.next();
  check(closed.type === 'close' && closed.code === 4001 && closed.reason === 'bye ✓',
    'close code and reason echoed', JSON.stringify(closed));
  await withTimeout(socket.ended, 5000, 'end of stream').then(
    () => check(true, 'stream ended after the closing handshake'),
    (e) => check(false, 'stream ended after the closing handshake', e.message));

  // Ten WebSockets on one HTTP/2 connection at once.
  const many = await Promise.all(Array.from({ length: 10 }, () => openSocket(client)));
  const answers = await Promise.all(many.map(async ({ socket }, i) => {
    socket.send(`socket ${i}`, false);
    const event = await socket.next();
    return event.type === 'message' && event.data.toString() === `socket ${i}`;
  }));
  check(answers.every(Boolean), '10 WebSockets on one HTTP/2 connection');
  await Promise.all(many.map(async ({ socket }) => {
    socket.sender.close(1000, '', true);
    await socket.next();
  }));

  // An unmasked client frame: the server fails with 1002 and ends the stream.
  const { socket: bad } = await openSocket(client);
  bad.stream.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  const failure = await bad.next();
  check(failure.type === 'close' && failure.code === 1002, 'unmasked client frame closed with 1002',
    JSON.stringify(failure));
  await withTimeout(bad.ended, 5000, 'end of stream').then(
    () => check(true, 'stream ended after the failure'),
    (e) => check(false, 'stream ended after the failure', e.message));

  // Refusals.
  const u = new URL(url);
  const plain = await request(client, { ':method': 'CONNECT', ':authority': u.host });
  check(plain.head[':status'] >= 400, 'CONNECT without :protocol refused', plain.head[':status']);
  plain.stream.close();
  const other = await request(client, connectHeaders({ ':protocol': 'webtransport' }));
  check(other.head[':status'] === 400, 'CONNECT with another :protocol refused with 400', other.head[':status']);
  other.stream.close();
  const version = await request(client, connectHeaders({ 'sec-websocket-version': '8' }));
  check(version.head[':status'] === 426 && version.head['sec-websocket-version'] === '13',
    'Sec-WebSocket-Version 8 refused with 426 naming 13', JSON.stringify(version.head));
  version.stream.close();
  const get = await request(client, { ':method': 'GET', ':path': '/echo', ':scheme': u.protocol.replace(':', ''), ':authority': u.host });
  check(get.head[':status'] === 405 && get.head.allow === 'CONNECT', 'GET over HTTP/2 refused with 405, Allow: CONNECT',
    JSON.stringify(get.head));
  get.stream.close();

  client.close();
}

main().then(
  () => process.exit(failed ? 1 : 0),
  (e) => { console.log(`FAILED  h2: ${e.stack}`); process.exit(1); },
);
