import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecordKey } from '../../shared/audit/query';
import { auditKey, intentKey } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { CLIENT_REFUSED, OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { isRetryable } from '../../shared/clients/retry';
import { CloudApiError } from '../../shared/errors';

describe('isRetryable', () => {
  it.each([
    { why: 'a 5xx answer', status: 503, code: 'ServiceUnavailable', retry: true },
    { why: 'a 500 with any code', status: 500, code: 'Whatever', retry: true },
    { why: 'HTTP 429', status: 429, code: 'TooManyRequests', retry: true },
    { why: 'POP throttling, answered with a 400', status: 400, code: 'Throttling.User', retry: true },
    { why: 'a refusal', status: 403, code: 'AccessDenied', retry: false },
    { why: 'a missing resource', status: 404, code: 'NoSuchBucket', retry: false },
    { why: 'an HTTP error named like a network fault', status: 403, code: 'ResponseError', retry: false },
    { why: 'a refused connection (ali-oss)', status: -1, code: 'RequestError', retry: true },
    { why: 'a reset (ali-oss)', status: -1, code: 'ResponseError', retry: true },
    { why: 'a response timeout (ali-oss)', status: undefined, code: 'ResponseTimeoutError', retry: true },
    { why: 'a connect timeout (ali-oss)', status: -2, code: 'ConnectionTimeoutError', retry: true },
    { why: 'a reset (POP SDKs pass Node codes)', status: undefined, code: 'ECONNRESET', retry: true },
    { why: 'a DNS hiccup', status: undefined, code: 'EAI_AGAIN', retry: true },
    {
      why: 'a network fault named only in the message',
      status: undefined,
      code: 'UnknownError',
      message: 'socket hang up',
      retry: true,
    },
    {
      why: 'a POP read timeout (httpx: no code, no status)',
      status: undefined,
      code: 'UnknownError',
      message: 'ReadTimeout(10000)',
      retry: true,
    },
    {
      why: 'a POP connect timeout',
      status: undefined,
      code: 'UnknownError',
      message: 'ConnectTimeout: Connect http://127.0.0.1:1/ failed.',
      retry: true,
    },
    {
      why: 'a bucket name ali-oss will not send',
      status: undefined,
      code: 'Error',
      message: 'The bucket must be conform to the specifications',
      retry: false,
    },
    {
      why: 'a header value with a line break (urllib wraps ERR_INVALID_CHAR)',
      status: -1,
      code: 'TypeError',
      message: 'Invalid character in header content ["x-oss-meta-a"]',
      retry: false,
    },
    { why: "Node's own invalid-header code", status: undefined, code: 'ERR_INVALID_CHAR', retry: false },
  ])('$why → retryable $retry', ({ status, code, message, retry }) => {
    expect(isRetryable(status, code, message)).toBe(retry);
  });
});

describe('OssGateway error classification, through ali-oss', () => {
  let dropper: Server;
  let endpoint: string;
  const gateway = (at: string, calls = new CallLog()) =>
    new OssGateway(
      new OssClientFactory({
        credentials: { accessKeyId: 'fake-id', accessKeySecret: 'fake-secret' },
        endpoint: at,
        timeoutMs: 2_000,
        retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      }),
      'cn-hangzhou',
      calls,
    );

  beforeAll(async () => {
    // Answers nothing: every connection is dropped, as a reset on the way would.
    dropper = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => dropper.close(() => resolve())));

  it('refuses a bucket name with a line break as a final, plainly named error, without retrying', async () => {
    const calls = new CallLog();
    const failure = await gateway(endpoint, calls)
      .getBucketAcl('forged\r\nX-Injected: 1')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CloudApiError);
    expect(failure).toMatchObject({ code: CLIENT_REFUSED, retryable: false, operation: 'GetBucketAcl' });
    expect(calls.entries).toHaveLength(1);
  });

  it('retries a dropped connection and then reports it as retryable', async () => {
    const calls = new CallLog();
    const failure = await gateway(endpoint, calls)
      .getBucketAcl('healthy-bucket')
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ retryable: true });
    expect((failure as CloudApiError).code).not.toBe(CLIENT_REFUSED);
    expect(calls.entries).toHaveLength(2);
  });
});

describe('intent keys', () => {
  it('sit under the audit prefix but are never taken for decision records', () => {
    const args = ['ossguard/audit/', 'acs.actiontrail/event-1', '2026-01-02T03:04:05Z'] as const;
    expect(intentKey(...args)).toMatch(/^ossguard\/audit\/intents\/2026\/01\/02\/[0-9a-f]{40}\.json$/);
    expect(isRecordKey('ossguard/audit/', intentKey(...args))).toBe(false);
    expect(isRecordKey('ossguard/audit/', auditKey(...args))).toBe(true);
  });
});
