import { describe, expect, it } from 'vitest';
import { LogTriggerRunner } from '../../local/eventbus/log-trigger';
import type { InvokeResult } from '../../local/fc/host';
import { positionOf, SlsStore } from '../../local/sls/store';
import type { FunctionSpec } from '../../shared/deployment/syaml';
import type { LogTriggerEvent } from '../../shared/logtrigger/event';

const PROJECT = 'trail';
const LOGSTORE = 'actiontrail_test';

const fn: FunctionSpec = {
  resourceName: 'object-guard',
  functionName: 'object-guard',
  region: 'cn-hangzhou',
  handler: 'index.handler',
  codeDir: '.',
  memorySize: 128,
  timeout: 60,
  environmentVariables: {},
  runtime: 'nodejs20',
  triggers: [
    {
      type: 'log',
      name: 'changes',
      enabled: true,
      project: PROJECT,
      logstore: LOGSTORE,
      intervalSeconds: 3,
      maxRetries: 2,
      parameter: {},
      config: {},
    },
  ],
};

/** A runner over one logstore whose FC is `answer`, recording each range it was invoked with. */
function rig(answer: (range: [number, number], call: number) => InvokeResult | Promise<InvokeResult>) {
  const store = new SlsStore();
  store.createLogstore(PROJECT, LOGSTORE);
  const ranges: Array<[number, number]> = [];
  const runner = new LogTriggerRunner({
    store,
    functions: async () => [fn],
    endpoint: () => 'http://127.0.0.1:1',
    intervalMs: 20,
    retryDelayMs: 1,
    invoker: {
      invoke: async (_fn, payload) => {
        const { source } = JSON.parse(String(payload)) as LogTriggerEvent;
        const range: [number, number] = [
          positionOf(source.beginCursor) ?? -1,
          positionOf(source.endCursor) ?? -1,
        ];
        ranges.push(range);
        return answer(range, ranges.length);
      },
    },
  });
  const write = () => store.append(PROJECT, LOGSTORE, { time: 0, topic: '', source: '', logs: [{ a: 'b' }] });
  return { runner, ranges, write };
}

const ok = (): InvokeResult => ({ ok: true, requestId: 'r', result: {} });

describe('the local log-trigger runner', () => {
  it('delivers nothing while paused, even for a timer armed before, then everything as one range on resume', async () => {
    const { runner, ranges, write } = rig(ok);
    write();
    runner.pause();
    write();
    write();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ranges).toEqual([]);

    runner.resume();
    await runner.drain();
    expect(ranges).toEqual([[0, 3]]);
    runner.close();
  });

  it('keeps delivering a shard after an invocation threw, and skips nothing', async () => {
    const { runner, ranges, write } = rig((_range, call) => {
      if (call === 1) throw new Error('FC host broke');
      return ok();
    });
    write();
    await expect(runner.drain()).rejects.toThrow('FC host broke');
    write();
    await runner.drain();
    // The thrown run left its checkpoint where it was: the next range starts at the same log.
    expect(ranges).toEqual([
      [0, 1],
      [0, 2],
    ]);
    runner.close();
  });

  it('returns from drain once closed, with a range still waiting for its interval', async () => {
    const { runner, write } = rig(ok);
    write();
    runner.close();
    await expect(runner.drain()).resolves.toBeUndefined();
  });
});
