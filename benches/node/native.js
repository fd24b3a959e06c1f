// The native halves of the Node peers, loaded so that a fallback cannot
// pass for them: uWebSockets.js's package silently falls back to a
// JavaScript emulation when its binary does not load, and bufferutil to
// JavaScript masking; either would make the peer a fake.
'use strict';
const path = require('path');

exports.uws = function uws() {
  const dir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return require(path.join(dir, 'binaries', file));
};

exports.nativeBufferutil = function nativeBufferutil() {
  const dir = path.dirname(require.resolve('bufferutil'));
  const native = require('node-gyp-build')(dir);
  if (require('bufferutil').mask !== native.mask) {
    throw new Error('bufferutil is its JavaScript fallback');
  }
};

// What a listen callback of uWebSockets.js does when the port is taken.
exports.listened = (port) => (token) => {
  if (!token) {
    console.error(`uws: cannot listen on ${port}`);
    process.exit(1);
  }
};

// Node ws's server on 127.0.0.1 with its native bufferutil checked.
exports.wsServer = function wsServer(port, options) {
  exports.nativeBufferutil();
  const { WebSocketServer } = require('ws');
  return new WebSocketServer({ host: '127.0.0.1', port: Number(port), maxPayload: 64 << 20, ...options });
};
