// Headless Chromium runs the reference's own JavaScript against sockweave
// servers. Started by run.sh, which gives the servers' URLs:
//
//   node run.js ADAPTER ECHO_URL DEFLATE_URL IDLE_URL STRICT_URL
//
// ECHO_URL: `sockweave serve --protocol chat` (16 MiB messages allowed).
// DEFLATE_URL: the same with --deflate; every case runs against both.
// IDLE_URL: the same with --idle-timeout 1 (the server closes: 1001).
// STRICT_URL: the same with --allow-origin https://other.example (403).
// Prints one line per case; exits 1 if any failed.
//
// For WebSockets over HTTP/2 (RFC 8441), with servers on TLS:
//   PAGE_URL   the page is loaded from here (the echo server's /health),
//              so Chromium holds an HTTP/2 connection to that origin;
//   WARM_URLS  comma-separated URLs fetched with credentials first, one
//              per other server, so each origin has an HTTP/2 connection
//              that WebSockets reuse (Chromium opens WebSockets over h2
//              only on a connection it already has);
//   CERT       the servers' certificate, trusted by its key's hash
//              (--ignore-certificate-errors-spki-list), with no error state.

'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { chromium } = require('playwright-core');

const [adapter, plainUrl, deflateUrl, idleUrl, strictUrl] = process.argv.slice(2);

// Each case runs inside the page; `url`s come in `args`. They use only the
// standard WebSocket API, as the reference's examples do.
const cases = {
  'text with non-ASCII and 4-byte UTF-8': async ({ echoUrl }) => {
    const ws = await openSocket(echoUrl);
    const text = 'Hello Server! κόσμε 𝄞 🎉';
    ws.send(text);
    const back = await nextMessage(ws);
    ws.close();
    return back.data === text ? 'ok' : `got ${JSON.stringify(back.data)}`;
  },

  'binary as ArrayBuffer and as Blob, typed-array views': async ({ echoUrl }) => {
    const ws = await openSocket(echoUrl);
    ws.binaryType = 'arraybuffer';
    const bytes = new Uint8Array(256).map((_, i) => i);
    ws.send(bytes.buffer);
    const a = await nextMessage(ws);
    if (!(a.data instanceof ArrayBuffer) || !same(new Uint8Array(a.data), bytes)) return 'ArrayBuffer differs';
    // A view sends only its window.
    ws.send(bytes.subarray(10, 20));
    const v = await nextMessage(ws);
    if (!same(new Uint8Array(v.data), bytes.subarray(10, 20))) return 'typed-array view differs';
    ws.send(new Float64Array([Math.PI]));
    const f = await nextMessage(ws);
    if (new Float64Array(f.data)[0] !== Math.PI) return 'Float64Array differs';
    ws.binaryType = 'blob';
    ws.send(new Blob([bytes]));
    const b = await nextMessage(ws);
    if (!(b.data instanceof Blob)) return `binaryType blob gave ${typeof b.data}`;
    const fromBlob = new Uint8Array(await b.data.arrayBuffer());
    ws.close();
    return same(fromBlob, bytes) ? 'ok' : 'Blob differs';
  },

  'empty text and empty binary': async ({ echoUrl }) => {
    const ws = await openSocket(echoUrl);
    ws.binaryType = 'arraybuffer';
    ws.send('');
    const t = await nextMessage(ws);
    ws.send(new ArrayBuffer(0));
    const b = await nextMessage(ws);
    ws.close();
    return t.data === '' && b.data.byteLength === 0 ? 'ok' : 'empty messages changed';
  },

  '1 MiB and 16 MiB messages': async ({ echoUrl }) => {
    const ws = await openSocket(echoUrl);
    ws.binaryType = 'arraybuffer';
    for (const size of [1 << 20, 16 << 20]) {
      const bytes = new Uint8Array(size).map((_, i) => i % 251);
      ws.send(bytes);
      const back = new Uint8Array((await nextMessage(ws)).data);
      if (!same(back, bytes)) return `${size} bytes came back different`;
    }
    const text = 'é'.repeat(1 << 19); // 1 MiB of UTF-8
    ws.send(text);
    const t = await nextMessage(ws);
    ws.close();
    return t.data === text ? 'ok' : '1 MiB text differs';
  },

  'a burst of 1,000 messages in order': async ({ echoUrl }) => {
    const ws = await openSocket(echoUrl);
    const got = [];
    const done = new Promise((resolve) => {
      ws.onmessage = (e) => {
        got.push(e.data);
        if (got.length === 1000) resolve();
      };
    });
    for (let i = 0; i < 1000; i++) ws.send(`message ${i}`);
    await done;
    ws.close();
    const bad = got.findIndex((m, i) => m !== `message ${i}`);
    return bad === -1 ? 'ok' : `message ${bad} was ${got[bad]}`;
  },

  'bufferedAmount rises and drains': async ({ echoUrl }) => {
    const ws = await openSocket(echoUrl);
    ws.send(new Uint8Array(16 << 20));
    const risen = ws.bufferedAmount;
    await nextMessage(ws);
    const drained = ws.bufferedAmount;
    ws.close();
    return risen > 0 && drained === 0 ? 'ok' : `rose to ${risen}, then ${drained}`;
  },

  'subprotocol selection and the extensions value': async ({ echoUrl, deflate }) => {
    const ws = await openSocket(echoUrl, ['superchat', 'chat']);
    const result = [ws.protocol, ws.extensions];
    ws.close();
    // Offered protocols and none selected: RFC 6455 allows it, Chromium
    // fails the connection ("Sent non-empty 'Sec-WebSocket-Protocol' header
    // but no response was received"). Our server's answer is the RFC's;
    // the page sees Chromium's rule.
    const none = new WebSocket(echoUrl, ['other']);
    const e = await closeEvent(none);
    result.push(e.code);
    // Offering nothing: opens, protocol ''.
    const plain = await openSocket(echoUrl);
    result.push(plain.protocol);
    plain.close();
    // Chromium always offers permessage-deflate; a server takes it only
    // when configured to.
    const want = ['chat', deflate ? 'permessage-deflate' : '', 1006, ''];
    return JSON.stringify(result) === JSON.stringify(want) ? 'ok' : JSON.stringify(result);
  },

  "close(1000, 'Work complete') and close(4000, …) are clean": async ({ echoUrl }) => {
    const seen = [];
    for (const [code, reason] of [[1000, 'Work complete'], [4000, 'custom reason ✓']]) {
      const ws = await openSocket(echoUrl);
      ws.close(code, reason);
      if (ws.readyState !== WebSocket.CLOSING) return `readyState ${ws.readyState} after close()`;
      const e = await closeEvent(ws);
      seen.push([e.code, e.reason, e.wasClean, ws.readyState]);
    }
    // The server echoes the code and the reason.
    const want = [[1000, 'Work complete', true, 3], [4000, 'custom reason ✓', true, 3]];
    return JSON.stringify(seen) === JSON.stringify(want) ? 'ok' : JSON.stringify(seen);
  },

  'server-initiated close with code and reason': async ({ idleUrl }) => {
    const ws = await openSocket(idleUrl);
    const e = await closeEvent(ws);
    const got = [e.code, e.reason, e.wasClean];
    return JSON.stringify(got) === JSON.stringify([1001, 'idle timeout', true]) ? 'ok' : JSON.stringify(got);
  },

  'a refused handshake is error, then close 1006': async ({ strictUrl }) => {
    const ws = new WebSocket(strictUrl);
    const order = [];
    ws.onopen = () => order.push('open');
    ws.onerror = () => order.push('error');
    const e = await closeEvent(ws);
    order.push('close');
    const got = [order.join(','), e.code, e.wasClean];
    return JSON.stringify(got) === JSON.stringify(['error,close', 1006, false]) ? 'ok' : JSON.stringify(got);
  },
};

// Helpers defined in the page before the cases run.
const helpers = `
  window.openSocket = (url, protocols) => new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('error event before open'));
  });
  window.nextMessage = (ws) => new Promise((resolve) => {
    ws.addEventListener('message', resolve, { once: true });
  });
  window.closeEvent = (ws) => new Promise((resolve) => {
    ws.addEventListener('close', resolve, { once: true });
  });
  window.same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
`;

async function main() {
  const server = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>sockweave browser tests</title>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
  if (process.env.CERT) {
    const cert = new crypto.X509Certificate(fs.readFileSync(process.env.CERT));
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    args.push(`--ignore-certificate-errors-spki-list=${crypto.createHash('sha256').update(spki).digest('base64')}`);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args,
  });
  let failed = 0;
  try {
    const page = await browser.newPage();
    await page.goto(process.env.PAGE_URL || `http://127.0.0.1:${server.address().port}/`);
    await page.evaluate(helpers);
    for (const url of (process.env.WARM_URLS || '').split(',').filter(Boolean)) {
      await page.evaluate(`fetch(${JSON.stringify(url)}, { mode: 'no-cors', credentials: 'include' })`);
    }
    for (const [label, echoUrl, deflate] of [['', plainUrl, false], ['+deflate', deflateUrl, true]]) {
      for (const [name, run] of Object.entries(cases)) {
        let result;
        try {
          // The function's source is evaluated in the page, where `openSocket`,
          // `nextMessage`, `closeEvent` and `same` are the helpers above.
          const args = JSON.stringify({ echoUrl, deflate, idleUrl, strictUrl });
          result = await Promise.race([
            page.evaluate(`(${run})(${args})`),
            new Promise((resolve) => setTimeout(() => resolve('timed out after 60 s'), 60000)),
          ]);
        } catch (e) {
          result = `threw ${e.message.split('\n')[0]}`;
        }
        if (result === 'ok') {
          console.log(`ok      chromium -> ${adapter}${label}: ${name}`);
        } else {
          failed++;
          console.log(`FAILED  chromium -> ${adapter}${label}: ${name}: ${result}`);
        }
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
