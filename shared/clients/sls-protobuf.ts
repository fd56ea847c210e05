import { PbfReader } from 'pbf';
import type { TrailLog } from '../events/trail-log';

/**
 * The PullLogs body in the documented form (F-SLS-PULLLOGS-FORMAT): a `LogGroupList` protobuf, as SLS's own
 * SDKs declare it (F-SLS-LOGGROUP-PROTO; aliyun/aliyun-log-python-sdk `aliyun/log/log_logs.proto`):
 *
 *   message Log          { required uint32 Time = 1; repeated Content Contents = 2; optional fixed32 Time_ns = 4;
 *                          message Content { required string Key = 1; required string Value = 2; } }
 *   message LogTag       { required string Key = 1; required string Value = 2; }
 *   message LogGroup     { repeated Log Logs = 1; optional string Reserved = 2; optional string Topic = 3;
 *                          optional string Source = 4; repeated LogTag LogTags = 6; }
 *   message LogGroupList { repeated LogGroup logGroupList = 1; }
 *
 * Unknown fields (Reserved, MachineUUID = 5, Log.values = 3, Time_ns) are skipped. A field with the wrong
 * wire type, or bytes left over, means the body is not a LogGroupList, and decoding throws.
 */

const VARINT = 0;
const BYTES = 2;

export class LogGroupDecodeError extends Error {
  override readonly name = 'LogGroupDecodeError';
}

interface Group {
  topic: string;
  source: string;
  tags: Array<[string, string]>;
  logs: Array<{ time: number; contents: Array<[string, string]> }>;
}

function wire(pbf: PbfReader, expected: number, field: string): void {
  if (pbf.type !== expected) {
    throw new LogGroupDecodeError(`${field} has wire type ${pbf.type}, expected ${expected}`);
  }
}

function readPair(pbf: PbfReader, what: string): [string, string] {
  const pair: [string, string] = ['', ''];
  pbf.readMessage((tag, out, p) => {
    if (tag === 1 || tag === 2) {
      wire(p, BYTES, `${what}.${tag === 1 ? 'Key' : 'Value'}`);
      out[tag - 1] = p.readString();
    }
  }, pair);
  return pair;
}

function readLog(pbf: PbfReader): Group['logs'][number] {
  const log: Group['logs'][number] = { time: 0, contents: [] };
  pbf.readMessage((tag, out, p) => {
    if (tag === 1) {
      wire(p, VARINT, 'Log.Time');
      out.time = p.readVarint();
    } else if (tag === 2) {
      wire(p, BYTES, 'Log.Contents');
      out.contents.push(readPair(p, 'Log.Content'));
    }
  }, log);
  return log;
}

function readGroup(pbf: PbfReader): Group {
  const group: Group = { topic: '', source: '', tags: [], logs: [] };
  pbf.readMessage((tag, out, p) => {
    if (tag === 1) {
      wire(p, BYTES, 'LogGroup.Logs');
      out.logs.push(readLog(p));
    } else if (tag === 3) {
      wire(p, BYTES, 'LogGroup.Topic');
      out.topic = p.readString();
    } else if (tag === 4) {
      wire(p, BYTES, 'LogGroup.Source');
      out.source = p.readString();
    } else if (tag === 6) {
      wire(p, BYTES, 'LogGroup.LogTags');
      out.tags.push(readPair(p, 'LogTag'));
    }
  }, group);
  return group;
}

/**
 * One flat record per log, in the shape the JSON path gives (`logsOf` in sls.ts): the group's topic and
 * source as `__topic__` / `__source__` when set, each tag as `__tag__:<key>`, the time as `__time__`.
 */
export function decodeLogGroupList(body: Uint8Array): TrailLog[] {
  const pbf = new PbfReader(body);
  const logs: TrailLog[] = [];
  try {
    pbf.readFields((tag, out, p) => {
      if (tag !== 1) return;
      wire(p, BYTES, 'LogGroupList.logGroupList');
      const group = readGroup(p);
      const shared: Record<string, string> = {
        ...(group.topic ? { __topic__: group.topic } : {}),
        ...(group.source ? { __source__: group.source } : {}),
      };
      for (const [key, value] of group.tags) if (key) shared[`__tag__:${key}`] = value;
      for (const item of group.logs) {
        const log: Record<string, string> = { ...shared, __time__: String(item.time) };
        for (const [key, value] of item.contents) if (key) log[key] = value;
        out.push(log);
      }
    }, logs);
  } catch (cause) {
    if (cause instanceof LogGroupDecodeError) throw cause;
    throw new LogGroupDecodeError(`not a LogGroupList: ${String(cause)}`, { cause });
  }
  if (pbf.pos !== body.length) {
    throw new LogGroupDecodeError(`not a LogGroupList: it ends at byte ${pbf.pos} of ${body.length}`);
  }
  return logs;
}
