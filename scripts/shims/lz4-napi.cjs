'use strict';
// The bundles alias lz4-napi to this file. @alicloud/gateway-sls imports it (through gateway-sls-util) to
// decompress PullLogs bodies; the real package loads a per-platform native `.node` binary that esbuild
// cannot bundle and FC would not find next to index.js. This is the LZ4 *block* format in plain JS, with
// lz4-napi's calling convention: `compress` prepends the raw size as 4 bytes little-endian and
// `uncompress` expects it (gateway-sls-util strips and re-adds that prefix around the wire body).

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MATCH_FIND_LIMIT = 12;
const MAX_OFFSET = 0xffff;

function readLength(src, at, base) {
  let length = base;
  let position = at;
  if (base === 15) {
    let byte;
    do {
      if (position >= src.length) throw new Error('lz4: truncated length');
      byte = src[position++];
      length += byte;
    } while (byte === 255);
  }
  return [length, position];
}

function decodeBlock(src, size) {
  const out = Buffer.alloc(size);
  let s = 0;
  let d = 0;
  while (s < src.length) {
    const token = src[s++];
    let literals;
    [literals, s] = readLength(src, s, token >>> 4);
    if (s + literals > src.length || d + literals > size) throw new Error('lz4: literals overrun');
    src.copy(out, d, s, s + literals);
    s += literals;
    d += literals;
    if (s === src.length) break;
    if (s + 2 > src.length) throw new Error('lz4: truncated offset');
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0 || offset > d) throw new Error('lz4: bad match offset');
    let match;
    [match, s] = readLength(src, s, token & 15);
    match += MIN_MATCH;
    if (d + match > size) throw new Error('lz4: match overrun');
    // Byte by byte: a match may overlap the bytes it is producing.
    for (let i = 0; i < match; i++) out[d + i] = out[d - offset + i];
    d += match;
  }
  if (d !== size) throw new Error(`lz4: decoded ${d} bytes, expected ${size}`);
  return out;
}

function writeLength(out, length) {
  let rest = length - 15;
  while (rest >= 255) {
    out.push(255);
    rest -= 255;
  }
  out.push(rest);
}

function emit(out, input, from, to, offset, match) {
  const literals = to - from;
  const matchCode = match === 0 ? 0 : match - MIN_MATCH;
  out.push((Math.min(literals, 15) << 4) | Math.min(matchCode, 15));
  if (literals >= 15) writeLength(out, literals);
  for (let i = from; i < to; i++) out.push(input[i]);
  if (match === 0) return;
  out.push(offset & 0xff, offset >>> 8);
  if (matchCode >= 15) writeLength(out, matchCode);
}

/** Greedy single-pass compressor: valid LZ4 blocks, not the smallest ones. */
function encodeBlock(input) {
  const n = input.length;
  const out = [];
  const table = new Int32Array(1 << 16).fill(-1);
  let anchor = 0;
  let i = 0;
  while (i < n - MATCH_FIND_LIMIT) {
    const sequence = input.readUInt32LE(i);
    const hash = Math.imul(sequence, 2654435761) >>> 16;
    const candidate = table[hash];
    table[hash] = i;
    if (candidate >= 0 && i - candidate <= MAX_OFFSET && input.readUInt32LE(candidate) === sequence) {
      let length = MIN_MATCH;
      while (i + length < n - LAST_LITERALS && input[candidate + length] === input[i + length]) length++;
      emit(out, input, anchor, i, i - candidate, length);
      i += length;
      anchor = i;
    } else {
      i++;
    }
  }
  emit(out, input, anchor, n, 0, 0);
  return Buffer.from(out);
}

function toBuffer(data) {
  return typeof data === 'string'
    ? Buffer.from(data)
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function compressSync(data, dict) {
  if (dict) throw new Error('lz4 shim: dictionaries are not supported');
  const input = toBuffer(data);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(input.length, 0);
  return Buffer.concat([size, encodeBlock(input)]);
}

function uncompressSync(data, dict) {
  if (dict) throw new Error('lz4 shim: dictionaries are not supported');
  const input = toBuffer(data);
  if (input.length < 4) throw new Error('lz4: missing size prefix');
  return decodeBlock(input.subarray(4), input.readUInt32LE(0));
}

exports.compressSync = compressSync;
exports.uncompressSync = uncompressSync;
exports.compress = async (data, dict) => compressSync(data, dict);
exports.uncompress = async (data, dict) => uncompressSync(data, dict);
