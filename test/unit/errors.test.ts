import { describe, expect, it, vi } from 'vitest';
import { CloudApiError, describeError, EventParseError } from '../../shared/errors';

const fields = {
  service: 'resourcemanager' as const,
  operation: 'ListAccounts',
  code: 'Throttling.User',
  retryable: true,
  message: 'Request was denied due to user flow control.',
};

describe('CloudApiError', () => {
  it('is known by instanceof when another copy of its module made it, as the clients bundled beside the functions do', async () => {
    vi.resetModules();
    const copy = await import('../../shared/errors');
    expect(copy.CloudApiError).not.toBe(CloudApiError);
    const error: unknown = new copy.CloudApiError(fields);
    expect(error instanceof CloudApiError).toBe(true);
    expect(error instanceof CloudApiError && error.retryable).toBe(true);
  });

  it('is not claimed by other errors, however they are shaped', () => {
    expect(new CloudApiError(fields)).toBeInstanceOf(CloudApiError);
    expect(new EventParseError('bad') instanceof CloudApiError).toBe(false);
    expect(Object.assign(new Error('x'), fields) instanceof CloudApiError).toBe(false);
    expect((null as unknown) instanceof CloudApiError).toBe(false);
  });
});

describe('describeError', () => {
  it('says only the public message of a CloudApiError another copy of its module made, never the server message', async () => {
    vi.resetModules();
    const copy = await import('../../shared/errors');
    const error = new copy.CloudApiError({ ...fields, message: 'secret detail from the server' });
    expect(describeError(error)).toBe('RESOURCEMANAGER ListAccounts failed with Throttling.User');
  });
});
