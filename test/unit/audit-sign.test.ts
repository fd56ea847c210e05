import { describe, expect, it } from 'vitest';
import {
  type AuditKey,
  digestOf,
  isTrustedRecord,
  macOf,
  sign,
  type UnsignedAuditRecord,
} from '../../shared/audit/record';
import { auditRecordOf } from '../helpers/audit-record';

const key: AuditKey = {
  id: 'acs:kms:cn-hangzhou:1:secret/ossguard-audit',
  secret: Buffer.from('k'.repeat(32)),
};

const base: UnsignedAuditRecord = auditRecordOf({
  time: '2026-12-07T00:00:00Z',
  decidedAt: '2026-12-07T00:00:01Z',
  actor: { type: 'ram-user', userName: 'Älice', principalId: '2001' },
  resource: { bucket: 'site-www', objectKey: 'a/"quoted"\u2028key' },
  rules: [
    {
      ruleId: 'bucket-acl-public-read',
      severity: 'high',
      message: 'public',
      evidence: { acl: 'public-read', grants: 2, owner: null },
      mode: 'enforce',
    },
  ],
});

describe('signing an audit record', () => {
  it.each([
    ['a whole record', base],
    ['a record with undefined fields', { ...base, accountId: undefined, error: undefined }],
    // Names on either side of `macKeyId` in code-unit order, and one that sorts before every lowercase name.
    [
      'a record with names around macKeyId',
      { ...base, mac_: 'x', macKey: 'y', m: 'z', Z: 'w' } as UnsignedAuditRecord,
    ],
  ])('gives %s the digest and MAC that digestOf and macOf compute', (_, record) => {
    const signed = sign(record, key);
    expect(signed.digest).toBe(digestOf(record));
    expect(signed.mac).toBe(macOf(record, key));
    expect(signed.macKeyId).toBe(key.id);
    expect(isTrustedRecord(signed, key)).toBe(true);
  });

  it('adds only the digest without an audit key', () => {
    const signed = sign(base);
    expect(signed).toEqual({ ...base, digest: digestOf(base) });
    expect(signed).not.toHaveProperty('mac');
  });
});
