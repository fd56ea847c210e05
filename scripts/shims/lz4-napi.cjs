'use strict';
// The bundles alias lz4-napi to this file. @alicloud/gateway-sls-util 0.3.x (under @alicloud/sls20201230's
// gateway) `require`s lz4-napi at load, in compress.js and decompress.js, to decompress lz4 PullLogs bodies on
// the SDK's JSON path; the real package loads a per-platform native `.node` binary that esbuild cannot bundle
// and FC would not find next to index.js. So the shim stays, but only as an adapter: the LZ4 block codec is
// lz4js (plain JS, the one shared/clients/lz4.ts uses on the protobuf path and the local SLS uses to answer),
// called with lz4-napi's convention: `compress` prepends the raw size as 4 bytes little-endian and
// `uncompress` expects it (gateway-sls-util strips and re-adds that prefix around the wire body).
const { compressBlock, compressBound, decompressBlock } = require('lz4js');

function toBuffer(data) {
  return typeof data === 'string'
    ? Buffer.from(data)
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A block of literals only: what lz4js leaves to its caller when it finds no match (short or random input). */
function literalsOnly(input) {
  const header = [Math.min(input.length, 15) << 4];
  if (input.length >= 15) {
    let rest = input.length - 15;
    for (; rest >= 255; rest -= 255) header.push(255);
    header.push(rest);
  }
  return Buffer.concat([Buffer.from(header), input]);
}

function compressSync(data, dict) {
  if (dict) throw new Error('lz4 shim: dictionaries are not supported');
  const input = toBuffer(data);
  const out = Buffer.allocUnsafe(compressBound(input.length) + 16);
  const length = compressBlock(input, out, 0, input.length, new Uint32Array(1 << 16));
  const size = Buffer.alloc(4);
  size.writeUInt32LE(input.length, 0);
  return Buffer.concat([size, length > 0 ? out.subarray(0, length) : literalsOnly(input)]);
}

function uncompressSync(data, dict) {
  if (dict) throw new Error('lz4 shim: dictionaries are not supported');
  const input = toBuffer(data);
  if (input.length < 4) throw new Error('lz4: missing size prefix');
  const size = input.readUInt32LE(0);
  const out = Buffer.allocUnsafe(size);
  // lz4js checks no bounds (writes past `out` are dropped), so a corrupt block shows as a wrong length.
  const written = decompressBlock(input, out, 4, input.length - 4, 0);
  if (written !== size) throw new Error(`lz4: decoded ${written} bytes, expected ${size}`);
  return out;
}

exports.compressSync = compressSync;
exports.uncompressSync = uncompressSync;
exports.compress = async (data, dict) => compressSync(data, dict);
exports.uncompress = async (data, dict) => uncompressSync(data, dict);
