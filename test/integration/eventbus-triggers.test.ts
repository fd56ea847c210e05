import { afterEach, describe, expect, it } from 'vitest';
import { functionsFromRendered, loadFunctions, SYamlError } from '../../shared/deployment/syaml';
import { copyFixture, fixtureSYaml } from '../fixtures/eventbus/fixture';

const fakeAccount = {
  AccountID: '1234567890123456',
  AccessKeyID: 'LTAI-fake-render',
  AccessKeySecret: 'fake-render',
};

describe('loadFunctions on the fixture s.yaml, rendered by the real s preview', () => {
  it('resolves vars, env() with its default, and fc3 defaults for every function', async () => {
    const functions = await loadFunctions(fixtureSYaml);
    expect(functions.map((fn) => [fn.resourceName, fn.functionName, fn.region])).toEqual([
      ['fn-a', 'fx-a', 'cn-hangzhou'],
      ['fn-b', 'fx-b', 'cn-hangzhou'],
      ['fn-fail', 'fx-fail', 'cn-hangzhou'],
      ['fn-slow', 'fx-slow', 'cn-hangzhou'],
    ]);
    const [a, b] = functions;
    expect(a).toMatchObject({
      handler: 'index.handler',
      runtime: 'nodejs20',
      codeDir: new URL('../fixtures/eventbus/code', import.meta.url).pathname,
      memorySize: 256,
      timeout: 10,
      environmentVariables: { MODE: 'dev' },
      logConfig: { project: 'fx-logs', logstore: 'fx-store' },
      // Without credentials s preview leaves config() unresolved, as F-SDEVS-PREVIEW says.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: s.yaml syntax, not a JavaScript template.
      role: "acs:ram::${config('AccountID')}:role/ossguard-fn",
    });
    expect(b).toMatchObject({ memorySize: 512, timeout: 3, environmentVariables: {} });
  });

  it('passes its env option to s preview, so env() and config() resolve from it', async () => {
    const [a] = await loadFunctions(fixtureSYaml, {
      env: { ...fakeAccount, EVENTBUS_FIXTURE_MODE: 'prod', EVENTBUS_FIXTURE_PREFIX: 'env' },
    });
    expect(a).toMatchObject({
      functionName: 'env-a',
      environmentVariables: { MODE: 'prod' },
      role: 'acs:ram::1234567890123456:role/ossguard-fn',
    });
  });

  it('parses the JSON-string eventRuleFilterPattern and reads timer triggers', async () => {
    const [a, b] = await loadFunctions(fixtureSYaml);
    expect(a?.triggers).toEqual([
      expect.objectContaining({
        type: 'eventbridge',
        name: 'acl-changes',
        enabled: true,
        eventSourceType: 'Default',
        pattern: { type: [{ suffix: ':ActionTrail:ApiCall' }], data: { eventName: ['PutBucketAcl'] } },
      }),
    ]);
    expect(b?.triggers.map((t) => [t.type, t.name, 'enabled' in t && t.enabled])).toEqual([
      ['eventbridge', 'key-changes', true],
      ['eventbridge', 'disabled-acl', false],
      ['timer', 'daily', true],
    ]);
    expect(b?.triggers[2]).toEqual({
      type: 'timer',
      name: 'daily',
      enabled: true,
      cronExpression: 'CRON_TZ=Asia/Shanghai 0 0 9 * * *',
      payload: '{"job":"digest"}',
    });
  });

  it('renders once per file content', async () => {
    expect(await loadFunctions(fixtureSYaml)).toBe(await loadFunctions(fixtureSYaml));
  });
});

describe('loadFunctions on an edited copy', () => {
  let fixture: ReturnType<typeof copyFixture> | undefined;
  afterEach(() => fixture?.remove());

  it('renders again when the content changes', async () => {
    fixture = copyFixture();
    const before = await loadFunctions(fixture.sYaml);
    fixture.edit('memorySize: 256', 'memorySize: 1024');
    const after = await loadFunctions(fixture.sYaml);
    expect([before[0]?.memorySize, after[0]?.memorySize]).toEqual([256, 1024]);
  });

  it.each([
    [
      'a pattern that is not JSON',
      `'{"data":{"eventName":["DeleteBucket"]}}'`,
      `'{"data":{"eventName":["DeleteBucket"]}'`,
      'resources.fn-fail.props.triggers[0].triggerConfig.eventRuleFilterPattern is not JSON',
    ],
    [
      'a malformed pattern',
      `'{"data":{"eventName":["DeleteBucket"]}}'`,
      `'{"data":{"eventName":"DeleteBucket"}}'`,
      'resources.fn-fail.props.triggers[0].triggerConfig.eventRuleFilterPattern: invalid event pattern at data.eventName',
    ],
    ['YAML that does not parse', 'resources:', 'resources: [', 'format is incorrect'],
    [
      'a pre-3.x edition, for which s preview prints nothing',
      'edition: 3.0.0',
      'edition: 1.0.0',
      'is edition 3.0.0?',
    ],
  ])('fails loudly on %s', async (_case, from, to, message) => {
    fixture = copyFixture();
    fixture.edit(from, to);
    const loading = loadFunctions(fixture.sYaml);
    await expect(loading).rejects.toThrow(SYamlError);
    await expect(loading).rejects.toThrow(message);
  });
});

const props = (extra: Record<string, unknown>) => ({
  region: 'cn-hangzhou',
  functionName: 'f',
  runtime: 'nodejs20',
  handler: 'index.handler',
  code: './code',
  ...extra,
});

describe('functionsFromRendered', () => {
  it('keeps fc3 resources only and resolves code against the s.yaml directory', () => {
    const functions = functionsFromRendered(
      {
        resources: {
          fn: { component: 'fc3@0.1.22', props: props({ code: { src: './dist/fn' } }) },
          other: { component: 'ram', props: { name: 'x' } },
        },
      },
      '/project',
    );
    expect(functions.map((fn) => [fn.resourceName, fn.codeDir])).toEqual([['fn', '/project/dist/fn']]);
  });

  it.each([
    ['a missing handler', props({ handler: undefined }), 'resources.fn.props.handler'],
    ['a handler without an export', props({ handler: 'index' }), 'must be <file>.<export>'],
    [
      'a number in environmentVariables',
      props({ environmentVariables: { N: 1 } }),
      'environment values must be strings',
    ],
    ['code only in OSS', props({ code: { ossBucketName: 'b', ossObjectName: 'o' } }), 'must be a local path'],
    [
      'an unknown trigger type',
      props({ triggers: [{ triggerName: 't', triggerType: 'kafka', triggerConfig: {} }] }),
      'resources.fn.props.triggers[0].triggerType',
    ],
    [
      'a timer without a cron expression',
      props({ triggers: [{ triggerName: 't', triggerType: 'timer', triggerConfig: { enable: true } }] }),
      'resources.fn.props.triggers[0].triggerConfig.cronExpression',
    ],
  ])('rejects %s', (_case, fnProps, message) => {
    const spec = { resources: { fn: { component: 'fc3', props: fnProps } } };
    expect(() => functionsFromRendered(spec, '/project')).toThrow(SYamlError);
    expect(() => functionsFromRendered(spec, '/project')).toThrow(message);
  });
});
