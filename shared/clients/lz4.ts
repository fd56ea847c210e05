import { compressBlock, compressBound, decompressBlock } from 'lz4js';

/**
 * LZ4 *block* format (no frame, no size prefix), as SLS sends bodies with `x-log-compresstype: lz4` and gives
 * the decoded size in `x-log-bodyrawsize` (F-SLS-PULLLOGS-FORMAT). lz4js is plain JavaScript, so the FC
 * bundles carry it as code; lz4-napi (what @alicloud/gateway-sls-util asks for) is a native addon.
 */

/** Decodes one block into exactly `rawSize` bytes; anything else (a corrupt or truncated block) throws. */
export function lz4Decompress(block: Uint8Array, rawSize: number): Buffer {
  if (!Number.isSafeInteger(rawSize) || rawSize < 0) throw new Error(`lz4: bad raw size ${rawSize}`);
  const out = Buffer.allocUnsafe(rawSize);
  let written: number;
  try {
    // lz4js checks no bounds: writes past `out` are dropped and reads past `block` give 0s, so a corrupt
    // block shows as a length that is not `rawSize` (or a match before the start, caught below).
    written = decompressBlock(block, out, 0, block.length, 0);
  } catch (cause) {
    throw new Error('lz4: corrupt block', { cause });
  }
  if (written !== rawSize) throw new Error(`lz4: decoded ${written} bytes, expected ${rawSize}`);
  return out;
}

/** Encodes `data` as one block (for the local SLS and the lz4-napi adapter; ossguard sends no bodies). */
export function lz4Compress(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(compressBound(data.length) + 16);
  const length = compressBlock(data, out, 0, data.length, new Uint32Array(1 << 16));
  // lz4js answers 0 when it found no match to encode (short or random input); a block of literals only is
  // still a valid block: one token, the literal length, the bytes.
  return length > 0 ? out.subarray(0, length) : literalsOnly(data);
}

function literalsOnly(data: Uint8Array): Buffer {
  const header: number[] = [Math.min(data.length, 15) << 4];
  if (data.length >= 15) {
    let rest = data.length - 15;
    for (; rest >= 255; rest -= 255) header.push(255);
    header.push(rest);
  }
  return Buffer.concat([Buffer.from(header), data]);
}
