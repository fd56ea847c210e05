/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected, all-ones init and final xor): what OSS reports in
 * `x-oss-hash-crc64ecma`, as an unsigned decimal string.
 */
const POLYNOMIAL = 0xc96c5795d7870f42n;
const ALL_ONES = 0xffffffffffffffffn;

const TABLE = Array.from({ length: 256 }, (_, index) => {
  let crc = BigInt(index);
  for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ POLYNOMIAL : crc >> 1n;
  return crc;
});

export function crc64ecma(data: Uint8Array): string {
  let crc = ALL_ONES;
  for (const byte of data) crc = (TABLE[Number((crc ^ BigInt(byte)) & 0xffn)] ?? 0n) ^ (crc >> 8n);
  return (crc ^ ALL_ONES).toString();
}
