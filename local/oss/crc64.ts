/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected, all-ones init and final xor): what OSS reports in
 * `x-oss-hash-crc64ecma`, as an unsigned decimal string. Computed in two 32-bit halves: BigInt arithmetic per
 * byte was the largest part of the local cloud's CPU for each object it stored.
 */
const POLYNOMIAL = { high: 0xc96c5795, low: 0xd7870f42 };

const TABLE_HIGH = new Uint32Array(256);
const TABLE_LOW = new Uint32Array(256);
for (let index = 0; index < 256; index++) {
  let high = 0;
  let low = index;
  for (let bit = 0; bit < 8; bit++) {
    const carry = low & 1;
    low = ((low >>> 1) | (high << 31)) >>> 0;
    high >>>= 1;
    if (carry) {
      high = (high ^ POLYNOMIAL.high) >>> 0;
      low = (low ^ POLYNOMIAL.low) >>> 0;
    }
  }
  TABLE_HIGH[index] = high;
  TABLE_LOW[index] = low;
}

export function crc64ecma(data: Uint8Array): string {
  let high = 0xffffffff;
  let low = 0xffffffff;
  for (const byte of data) {
    const index = (low ^ byte) & 0xff;
    low = (((low >>> 8) | (high << 24)) ^ (TABLE_LOW[index] as number)) >>> 0;
    high = ((high >>> 8) ^ (TABLE_HIGH[index] as number)) >>> 0;
  }
  return ((BigInt((high ^ 0xffffffff) >>> 0) << 32n) | BigInt((low ^ 0xffffffff) >>> 0)).toString();
}
