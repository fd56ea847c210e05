import { describe, expect, it } from 'vitest';
import { encodeLogGroupList } from '../../local/sls/protobuf';
import type { StoredGroup } from '../../local/sls/store';
import { lz4Compress, lz4Decompress } from '../../shared/clients/lz4';
import { decodeLogGroupList, LogGroupDecodeError } from '../../shared/clients/sls-protobuf';

/** Protobuf wire encoding by hand, so the decoder is checked against the field numbers, not against itself. */
const varint = (value: number): number[] => {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
};
const bytes = (field: number, body: number[] | string): number[] => {
  const data = typeof body === 'string' ? [...Buffer.from(body)] : body;
  return [...varint((field << 3) | 2), ...varint(data.length), ...data];
};
const uint = (field: number, value: number): number[] => [...varint(field << 3), ...varint(value)];
const fixed32 = (field: number, value: number): number[] => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return [...varint((field << 3) | 5), ...b];
};
const pair = (field: number, key: string, value: string) =>
  bytes(field, [...bytes(1, key), ...bytes(2, value)]);

describe('the LogGroupList protobuf of PullLogs', () => {
  it('reads time, contents, topic, source and tags by the field numbers of log.proto, skipping the rest', () => {
    const log = [
      ...uint(1, 1767225600),
      ...pair(2, 'event', '{"eventName":"PutObjectAcl"}'),
      ...pair(2, 'k', 'é ünïcode'),
      ...fixed32(4, 123456789),
    ];
    const group = [
      ...bytes(1, log),
      ...bytes(2, 'reserved'),
      ...bytes(3, 'actiontrail_audit_event'),
      ...bytes(4, '10.0.0.1'),
      ...bytes(5, 'machine-uuid'),
      ...pair(6, '__receive_time__', '1767225601'),
      ...bytes(1, [...uint(1, 1767225602), ...pair(2, 'event', '{}')]),
    ];
    const body = Uint8Array.from([...bytes(1, group), ...bytes(1, [...bytes(3, 'other')])]);
    expect(decodeLogGroupList(body)).toEqual([
      {
        __topic__: 'actiontrail_audit_event',
        __source__: '10.0.0.1',
        '__tag__:__receive_time__': '1767225601',
        __time__: '1767225600',
        event: '{"eventName":"PutObjectAcl"}',
        k: 'é ünïcode',
      },
      {
        __topic__: 'actiontrail_audit_event',
        __source__: '10.0.0.1',
        '__tag__:__receive_time__': '1767225601',
        __time__: '1767225602',
        event: '{}',
      },
    ]);
  });

  it('reads an empty body as no logs', () => {
    expect(decodeLogGroupList(new Uint8Array(0))).toEqual([]);
  });

  it('decodes what the local SLS encodes, tags and all', () => {
    const groups: StoredGroup[] = [
      {
        time: 1,
        topic: 't',
        source: 's',
        tags: { a: 'b' },
        logs: [{ x: '1' }, { x: '2', y: '' } as Record<string, string>],
      },
      { time: 2, topic: '', source: '', logs: [] },
      { time: 3, topic: '', source: '', logs: [{ big: 'v'.repeat(70_000) }] },
    ];
    expect(decodeLogGroupList(encodeLogGroupList(groups))).toEqual([
      { __topic__: 't', __source__: 's', '__tag__:a': 'b', __time__: '1', x: '1' },
      { __topic__: 't', __source__: 's', '__tag__:a': 'b', __time__: '1', x: '2', y: '' },
      { __time__: '3', big: 'v'.repeat(70_000) },
    ]);
  });

  it.each([
    ['a JSON body', Buffer.from('{"logGroupList":[]}')],
    [
      'a truncated LogGroupList',
      encodeLogGroupList([{ time: 1, topic: 't', source: '', logs: [{ a: 'b' }] }]).subarray(0, 9),
    ],
    ['a group sent as a number', Uint8Array.from(uint(1, 5))],
  ])('refuses %s instead of returning garbage', (_what, body) => {
    expect(() => decodeLogGroupList(body)).toThrow(LogGroupDecodeError);
  });
});

describe('the lz4 block codec (lz4js)', () => {
  it('round-trips a body of any size, short and incompressible ones too', () => {
    for (const data of [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('0123456789abcdef'),
      Buffer.alloc(100_000, 7),
    ]) {
      expect(lz4Decompress(lz4Compress(data), data.length).equals(data)).toBe(true);
    }
  });

  it('refuses a block that does not decode to the announced size', () => {
    const block = lz4Compress(Buffer.from('hello hello hello hello hello hello'));
    expect(() => lz4Decompress(block, 40)).toThrow(/lz4/);
  });
});
