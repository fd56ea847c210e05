import { PbfWriter } from 'pbf';
import type { StoredGroup } from './store';

/**
 * Log groups as the `LogGroupList` protobuf PullLogs answers with `Accept: application/x-protobuf`
 * (F-SLS-PULLLOGS-FORMAT; field numbers in F-SLS-LOGGROUP-PROTO and shared/clients/sls-protobuf.ts, which
 * decodes it). Every log of a group gets the group's time; Time_ns (4) is left out, as it is optional.
 */
export function encodeLogGroupList(groups: readonly StoredGroup[]): Buffer {
  const pbf = new PbfWriter();
  for (const group of groups) pbf.writeMessage(1, writeGroup, group);
  return Buffer.from(pbf.finish());
}

function writeGroup(group: StoredGroup, pbf: PbfWriter): void {
  for (const log of group.logs) pbf.writeMessage(1, writeLog, { time: group.time, log });
  if (group.topic) pbf.writeStringField(3, group.topic);
  if (group.source) pbf.writeStringField(4, group.source);
  for (const pair of Object.entries(group.tags ?? {})) pbf.writeMessage(6, writePair, pair);
}

function writeLog({ time, log }: { time: number; log: Record<string, string> }, pbf: PbfWriter): void {
  pbf.writeVarintField(1, time);
  for (const pair of Object.entries(log)) pbf.writeMessage(2, writePair, pair);
}

function writePair([key, value]: [string, string], pbf: PbfWriter): void {
  pbf.writeStringField(1, key);
  pbf.writeStringField(2, value);
}
