import type { Caller } from '../identity';
import { ERR, OssError } from './errors';
import type { OssRequest } from './request';
import type { OssState } from './state';
import { element, type Xml, xmlDocument } from './xml';

/** Everything a handler sees. The route guarantees `bucketName` (and `key` for object operations) is set. */
export interface OpContext {
  request: OssRequest;
  /** Undefined for anonymous requests, which reach only the operations public access allows. */
  caller?: Caller;
  state: OssState;
  now: Date;
  region: string;
  /** The named bucket's owner account; for service-level calls (and a new bucket), the caller's account. */
  owner: string;
  /** '' for service-level operations. */
  bucketName: string;
  /** '' for service- and bucket-level operations. */
  key: string;
}

export interface OssReply {
  status: number;
  /** Lower-case names. */
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Operation {
  /** Writes are what ActionTrail records; reads emit nothing. */
  write: boolean;
  /** A bucket-addressed call that ActionTrail counts among object-level data events (DeleteMultipleObjects). */
  objectLevel?: boolean;
  handle(ctx: OpContext): OssReply;
}

export const xmlReply = (root: Xml, headers: Record<string, string> = {}): OssReply => ({
  status: 200,
  headers: { 'content-type': 'application/xml', ...headers },
  body: xmlDocument(root),
});

export const emptyReply = (status = 200, headers: Record<string, string> = {}): OssReply => ({
  status,
  headers,
});

export const ownerXml = (owner: string): Xml =>
  element('Owner', element('ID', owner), element('DisplayName', owner));

/** GetBucketAcl's and GetObjectAcl's answer alike: the owner and the one grant. */
export const aclPolicyXml = (owner: string, grant: string): Xml =>
  element('AccessControlPolicy', ownerXml(owner), element('AccessControlList', element('Grant', grant)));

/** `oss-<region>`, the Location OSS reports, and the region's public and internal endpoints. */
export const regionNames = (region: string) => ({
  location: `oss-${region}`,
  extranet: `oss-${region}.aliyuncs.com`,
  intranet: `oss-${region}-internal.aliyuncs.com`,
});

/** The ACL header of a write, validated; undefined when the caller sent none. */
export const readAcl = <T extends string>(
  request: OssRequest,
  header: 'x-oss-acl' | 'x-oss-object-acl',
  allowed: readonly T[],
): T | undefined => parseAcl(request.headers[header], header, allowed);

/** An ACL value from a header or a PostObject form field, validated (F-OSS-ACL-VALUES). */
export function parseAcl<T extends string>(
  value: string | undefined,
  name: 'x-oss-acl' | 'x-oss-object-acl',
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new OssError(ERR.InvalidArgument, {
      message: 'no such bucket access control exists',
      details: { ArgumentName: name, ArgumentValue: value },
    });
  }
  return value as T;
}
