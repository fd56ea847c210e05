import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc64ecma } from '../../local/oss/crc64';

/** CRC-64/XZ one bit at a time, with BigInt: slow and plainly the definition. */
function bitwise(data: Uint8Array): string {
  let crc = 0xffffffffffffffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ 0xc96c5795d7870f42n : crc >> 1n;
  }
  return (crc ^ 0xffffffffffffffffn).toString();
}

describe('the local OSS CRC-64', () => {
  it('gives the CRC-64/XZ check value for "123456789"', () => {
    expect(crc64ecma(Buffer.from('123456789'))).toBe(BigInt('0x995dc9bbdf1939fa').toString());
  });

  it('agrees with the bit-by-bit definition on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        expect(crc64ecma(data)).toBe(bitwise(data));
      }),
    );
  });
});
