import { isIpAddress, networkContains, parseNetwork } from '../../network';

/** Where a call came from, judged against allowed networks. */
export type SourceVerdict = 'trusted' | 'untrusted' | 'internal' | 'service' | 'unknown';

/** The networks a key may be used from: CIDR blocks (or single addresses) and VPC ids. */
export interface AllowedNetworks {
  cidrs: readonly string[];
  vpcIds: readonly string[];
}

export const noNetworksAllowed = (allowed: AllowedNetworks): boolean =>
  allowed.cidrs.length === 0 && allowed.vpcIds.length === 0;

/**
 * ActionTrail writes `Internal` when a call cannot be told apart from internal or VPC ranges, and a service
 * domain (e.g. `ram.aliyuncs.com`) for calls Alibaba Cloud services make: neither is an internet address we
 * could judge, so both are trusted by the rules and the evidence says so. A call from an allowed VPC
 * (the record's `vpcId`, F-ACTIONTRAIL-VPC-ID) is trusted whatever its private address.
 */
export function classifySource(
  source: { sourceIp?: string; vpcId?: string },
  allowed: AllowedNetworks,
): SourceVerdict {
  if (source.vpcId && allowed.vpcIds.includes(source.vpcId)) return 'trusted';
  const { sourceIp } = source;
  if (!sourceIp) return 'unknown';
  if (sourceIp === 'Internal') return 'internal';
  if (!isIpAddress(sourceIp)) return /\.aliyuncs\.com$/.test(sourceIp) ? 'service' : 'unknown';
  const inside = allowed.cidrs.some((cidr) => {
    const network = parseNetwork(cidr);
    return network !== undefined && networkContains(network, sourceIp);
  });
  return inside ? 'trusted' : 'untrusted';
}
