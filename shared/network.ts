import ipaddr from 'ipaddr.js';

/**
 * IP addresses and CIDR blocks, parsed by ipaddr.js: the config's allowed source networks, `acs:SourceIp`
 * conditions and the local cloud's checks of them. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a
 * dual-stack socket reports for an IPv4 caller) is the IPv4 address it carries, and a mapped block
 * (`::ffff:10.0.0.0/104`) the IPv4 block, so neither slips past an IPv4 range or its /8 bound.
 */
export interface Network {
  family: 4 | 6;
  /** The prefix length; an address without a mask is a single host (/32 or /128). */
  bits: number;
  base: ipaddr.IPv4 | ipaddr.IPv6;
}

/** The IPv4-mapped IPv6 block `::ffff:0:0/96` spends 96 bits before the IPv4 address starts. */
const MAPPED_PREFIX_BITS = 96;

/** Only the written forms people mean: four dotted decimals (no `0x…`, no `010`, no bare integer) or IPv6. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

export const isIpAddress = (text: string): boolean => parseAddress(text) !== undefined;

/** `address` or `address/bits`; undefined when it is neither. */
export function parseNetwork(text: string): Network | undefined {
  const [addressText = '', bitsText, ...rest] = text.split('/');
  if (rest.length > 0) return undefined;
  const base = parseAddress(addressText);
  if (!base) return undefined;
  const family = base.kind() === 'ipv4' ? 4 : 6;
  if (bitsText === undefined) return { family, bits: family === 4 ? 32 : 128, base };
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  const written = Number(bitsText);
  const mapped = family === 4 && addressText.includes(':');
  if (mapped && written < MAPPED_PREFIX_BITS) {
    // Wider than the mapped block: an IPv6 network that happens to be written with a dotted tail.
    return { family: 6, bits: written, base: ipaddr.IPv6.parse(addressText) };
  }
  const bits = mapped ? written - MAPPED_PREFIX_BITS : written;
  return bits <= (family === 4 ? 32 : 128) ? { family, bits, base } : undefined;
}

/**
 * An IPv6 network that holds the IPv4-mapped block `::ffff:0:0/96` (`::/32` does) holds every IPv4 address,
 * in the mapped form a dual-stack socket reports: as wide as IPv4 /0, whatever its prefix length.
 */
export const holdsEveryIpv4 = (network: Network): boolean =>
  network.family === 6 && network.bits <= MAPPED_PREFIX_BITS && networkContains(network, '0.0.0.0');

export function networkContains(network: Network, addressText: string): boolean {
  const address = parseAddress(addressText);
  if (!address) return false;
  if (address.kind() === network.base.kind()) return address.match(network.base, network.bits);
  // Only an IPv6 network wider than ::ffff:0:0/96 can hold an IPv4 address, in its mapped form.
  return address instanceof ipaddr.IPv4 && address.toIPv4MappedAddress().match(network.base, network.bits);
}
