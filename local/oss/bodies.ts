import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ERR, OssError } from './errors';

/**
 * Request bodies of the XML operations. ali-oss writes some without an XML declaration and without escaping
 * (Tagging, F-OSS-TAGGING), so a tag value like `v&<` arrives as malformed XML and is refused as such.
 */
const parser = new XMLParser({
  ignoreDeclaration: true,
  parseTagValue: false,
  isArray: (name) => name === 'Tag' || name === 'Part' || name === 'Object',
});

type XmlObject = Record<string, unknown>;

const malformed = (detail?: string): OssError =>
  new OssError(ERR.MalformedXML, detail ? { details: { ErrorDetail: detail } } : {});

const isObject = (value: unknown): value is XmlObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An empty element (`<TagSet/>`) parses as ''; treat it as an element without children. */
const children = (value: unknown): XmlObject => (isObject(value) ? value : {});

function readXml(body: Buffer, root: string): XmlObject {
  const text = body.toString('utf8');
  if (XMLValidator.validate(text) !== true) throw malformed();
  const document = parser.parse(text) as XmlObject;
  if (!(root in document)) throw malformed(`the root element must be ${root}`);
  return children(document[root]);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function readCreateBucketConfiguration(body: Buffer): {
  storageClass?: string;
  dataRedundancyType?: string;
} {
  if (body.length === 0) return {};
  const config = readXml(body, 'CreateBucketConfiguration');
  const storageClass = text(config.StorageClass);
  const dataRedundancyType = text(config.DataRedundancyType);
  return { ...(storageClass ? { storageClass } : {}), ...(dataRedundancyType ? { dataRedundancyType } : {}) };
}

export function readTagging(body: Buffer): Array<[string, string]> {
  const tags = children(readXml(body, 'Tagging').TagSet).Tag;
  return (Array.isArray(tags) ? tags : []).map((tag): [string, string] => {
    const { Key, Value } = children(tag);
    const key = text(Key);
    if (key === undefined) throw malformed('every Tag needs a Key');
    return [key, text(Value) ?? ''];
  });
}

/** BlockPublicAccess defaults to false when the element is left out (PutPublicAccessBlock docs). */
export function readBlockPublicAccess(body: Buffer): boolean {
  const value = readXml(body, 'PublicAccessBlockConfiguration').BlockPublicAccess;
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw malformed('BlockPublicAccess must be true or false');
}

export function readRetentionDays(
  body: Buffer,
  root: 'InitiateWormConfiguration' | 'ExtendWormConfiguration',
): number {
  const value = text(readXml(body, root).RetentionPeriodInDays) ?? '';
  if (!/^\d+$/.test(value)) throw malformed('RetentionPeriodInDays must be a positive integer');
  return Number(value);
}

/** The part list of CompleteMultipartUpload, in the order given (F-OSS-MULTIPART). */
export function readCompleteMultipartUpload(body: Buffer): Array<{ partNumber: number; etag: string }> {
  const parts = readXml(body, 'CompleteMultipartUpload').Part;
  return (Array.isArray(parts) ? parts : []).map((part) => {
    const fields = children(part);
    const partNumber = Number(text(fields.PartNumber));
    const etag = text(fields.ETag);
    if (!Number.isInteger(partNumber) || etag === undefined)
      throw malformed('each Part needs PartNumber and ETag');
    return { partNumber, etag };
  });
}

/** A DeleteMultipleObjects body: the keys, and whether only failures are answered (F-OSS-DELETE-MULTIPLE). */
export function readDelete(body: Buffer): { quiet: boolean; keys: string[] } {
  const request = readXml(body, 'Delete');
  const objects = Array.isArray(request.Object) ? request.Object : [];
  const keys = objects.map((object) => {
    const key = text(children(object).Key);
    if (!key) throw malformed('every Object needs a Key');
    return key;
  });
  if (keys.length === 0) throw malformed('no Object to delete');
  return { quiet: text(request.Quiet) === 'true', keys };
}

/** A PutBucketVersioning body: Enabled or Suspended (F-OSS-VERSIONING). */
export function readVersioningStatus(body: Buffer): 'Enabled' | 'Suspended' {
  const status = text(readXml(body, 'VersioningConfiguration').Status);
  if (status !== 'Enabled' && status !== 'Suspended') throw malformed('Status must be Enabled or Suspended');
  return status;
}
