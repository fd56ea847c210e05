import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderSYaml } from '../../shared/deployment/syaml';
import { buildRecord, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { compilePattern } from '../../shared/events/eventbridge-pattern';
import { ACL_GUARD_EVENTS, KEY_FUNCTION_EVENTS, POLICY_GUARD_EVENTS } from '../../shared/events/names';

/**
 * s.yaml as Serverless Devs renders it (`s preview`, offline), checked the way `s verify` and the engine's
 * `validation: true` check it (Ajv against the fc3 component's schema), plus what that schema leaves open.
 */
interface Trigger {
  triggerName: string;
  triggerType: string;
  triggerConfig: Record<string, unknown>;
}
interface Rendered {
  edition: string;
  validation?: boolean;
  actions?: Record<string, Array<{ run?: string; path?: string }>>;
  resources: Record<string, { component: string; props: Record<string, unknown> & { triggers?: Trigger[] } }>;
}

type Service = 'Oss' | 'Ram' | 'Ims';

/** Each guard's events and the services that emit them; a new guard adds its row. */
const GUARD_EVENTS: Record<string, { events: readonly string[]; services: Service[] }> = {
  // PutObjectAcl too, should OSS record it as a management event (F-ACTIONTRAIL-OSS-DATA-EVENTS).
  'oss-acl-guard': { events: [...ACL_GUARD_EVENTS, 'PutObjectAcl'], services: ['Oss'] },
  'oss-policy-guard': { events: POLICY_GUARD_EVENTS, services: ['Oss'] },
  // The access-key-guard function judges identity policies too (functions/access-key-guard/index.ts).
  'access-key-guard': { events: KEY_FUNCTION_EVENTS, services: ['Ram', 'Ims'] },
};
const ALL_EVENTS = [
  ...new Set([
    ...Object.values(GUARD_EVENTS).flatMap((g) => g.events),
    'DeleteBucket',
    'CreateUser',
    'GetObject',
  ]),
];

/** The deployer's environment holds the robot's secret; s.yaml must pass it on without containing it. */
const DINGTALK_SECRET = 'SEC-from-the-deployers-environment';

const render = (region: string) =>
  renderSYaml('s.yaml', {
    env: {
      OSSGUARD_REGION: region,
      AccountID: '1234567890123456',
      OSSGUARD_DINGTALK_SECRET: DINGTALK_SECRET,
    },
  }) as Promise<Rendered>;

const eventOf = (serviceName: Service, eventName: string, eventType: 'ApiCall' | 'ConsoleOperation') =>
  wrapCloudEvent(
    buildRecord({
      caller: {
        kind: 'ram-user',
        accountId: '1234567890123456',
        principalId: '1',
        userName: 'alice',
        accessKeyId: 'LTAIx',
        mfa: false,
      },
      eventName,
      eventType,
      serviceName,
      eventSource: `${serviceName.toLowerCase()}.aliyuncs.com`,
      region: 'cn-hangzhou',
      requestId: 'r',
      sourceIp: '10.0.0.1',
      userAgent: 'test',
      referencedResources: { 'ACS::OSS::Bucket': ['photos'] },
    }),
  );

describe('s.yaml', () => {
  let hangzhou: Rendered;
  let beijing: Rendered;
  beforeAll(async () => {
    [hangzhou, beijing] = await Promise.all([render('cn-hangzhou'), render('cn-beijing')]);
  }, 60_000);

  it('keeps the fc3 schema the same JSON as the component 0.1.22 schema (deploy/fc3-schema.SOURCE.md)', () => {
    const compact = JSON.stringify(JSON.parse(readFileSync('deploy/fc3-schema.json', 'utf8')));
    expect(createHash('sha256').update(compact).digest('hex')).toBe(
      '9a481ca6fdf9cffba7030292ff483a52838c1a25f5b121a9a4f2eb2fc91924c1',
    );
  });

  it('is a Serverless Devs 3 spec with validation on and the fc3 component pinned', () => {
    expect(hangzhou.edition).toBe('3.0.0');
    expect(hangzhou.validation).toBe(true);
    for (const [name, resource] of Object.entries(hangzhou.resources))
      expect(resource.component, name).toBe('fc3@0.1.22');
  });

  it('builds the bundles, then bootstraps the role and audit bucket, once before deploying', () => {
    const steps = (hangzhou.actions?.['pre-deploy'] ?? []).map((step) => step.run);
    expect(steps).toEqual(['npm run build', 'node bin/ossguard.mjs bootstrap']);
  });

  it('validates every resource against the fc3 schema, as `s verify` does', () => {
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync('deploy/fc3-schema.json', 'utf8')),
    );
    for (const rendered of [hangzhou, beijing]) {
      for (const [name, { props }] of Object.entries(rendered.resources)) {
        expect(validate(props) ? [] : validate.errors, name).toEqual([]);
      }
    }
  });

  it('catches a memory size the schema refuses, so the check above can fail', () => {
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync('deploy/fc3-schema.json', 'utf8')),
    );
    const [, first] = Object.entries(hangzhou.resources)[0] ?? [];
    expect(validate({ ...first?.props, memorySize: 300 })).toBe(false);
  });

  it('gives every function nodejs20, its own bundle, explicit limits, SLS logs and the ossguard role', () => {
    for (const [name, { props }] of Object.entries(hangzhou.resources)) {
      expect(props, name).toMatchObject({
        functionName: name,
        runtime: 'nodejs20',
        handler: 'index.handler',
        code: `./dist/${name}`,
        logConfig: 'auto',
        role: 'ossguard-fn',
      });
      expect(props.memorySize, name).toEqual(expect.any(Number));
      expect(props.timeout, name).toEqual(expect.any(Number));
    }
  });

  it('takes secrets from the environment only, as strings', () => {
    const secretLines = readFileSync('s.yaml', 'utf8')
      .split('\n')
      .filter((line) => /(SECRET|PASSWORD|TOKEN|KEY)\w*:/.test(line));
    expect(secretLines.length).toBeGreaterThan(0);
    for (const line of secretLines) expect(line).toMatch(/:\s*\$\{env\('OSSGUARD_\w+', ''\)\}\s*$/);
    for (const { props } of Object.values(hangzhou.resources)) {
      const env = props.environmentVariables as Record<string, string>;
      expect(env.OSSGUARD_DINGTALK_SECRET).toBe(DINGTALK_SECRET);
      expect(env.OSSGUARD_SMTP_PASSWORD).toBe('');
      expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
    }
  });

  it('passes no secret value when the deployer keeps the secrets in KMS and sets none of them', async () => {
    const rendered = (await renderSYaml('s.yaml', {
      env: { OSSGUARD_REGION: 'cn-hangzhou', AccountID: '1234567890123456' },
    })) as Rendered;
    for (const { props } of Object.values(rendered.resources)) {
      const env = props.environmentVariables as Record<string, string>;
      for (const name of ['OSSGUARD_DINGTALK_SECRET', 'OSSGUARD_SMTP_PASSWORD', 'OSSGUARD_AUDIT_KEY'])
        expect(env[name], name).toBe('');
    }
  });

  it('deploys the EventBridge OSS guards to the region of the run and everything else to the home region', () => {
    const home = ['trail-guard', 'oss-sweeper', 'access-key-guard'];
    for (const [rendered, region] of [
      [hangzhou, 'cn-hangzhou'],
      [beijing, 'cn-beijing'],
    ] as const) {
      for (const [name, { props }] of Object.entries(rendered.resources)) {
        expect(props.region, name).toBe(home.includes(name) ? 'cn-hangzhou' : region);
      }
    }
  });

  it('gives trail-guard one log trigger on the home project, numeric jobConfig, and no named invocation role', () => {
    for (const rendered of [hangzhou, beijing]) {
      const logTriggers = Object.entries(rendered.resources).flatMap(([name, { props }]) =>
        (props.triggers ?? []).filter((t) => t.triggerType === 'log').map((t) => ({ name, props, t })),
      );
      expect(logTriggers.map((l) => l.name)).toEqual(['trail-guard']);
      const [found] = logTriggers;
      const props = found?.props ?? {};
      const trigger = (found?.t ?? {}) as Trigger & { sourceArn?: string; invocationRole?: string };
      // A log trigger reads a project in its function's region (F-FC-LOGTRIGGER-SAME-REGION).
      // The account id stays a `${config('AccountID')}` reference in an offline preview.
      expect(trigger.sourceArn).toMatch(/^acs:log:cn-hangzhou:[^:]+:project\/ossguard-trail$/);
      expect(props.region).toBe('cn-hangzhou');
      // Left out so that fc3 creates AliyunLogETLRole (F-FC-LOGTRIGGER-ROLE).
      expect(trigger.invocationRole).toBeUndefined();
      expect(trigger.triggerConfig.jobConfig).toEqual({ triggerInterval: 10, maxRetryTime: 5 });
      expect(trigger.triggerConfig.logConfig).toEqual({
        project: 'ossguard-trail',
        logstore: 'ossguard-trigger-logs',
      });
    }
  });

  it('gives each guard an enabled EventBridge trigger on the default bus', () => {
    for (const [name, { props }] of Object.entries(hangzhou.resources)) {
      const triggers = (props.triggers ?? []).filter((t) => t.triggerType === 'eventbridge');
      if (!(name in GUARD_EVENTS)) continue;
      expect(triggers, name).toHaveLength(1);
      expect(triggers[0]?.triggerConfig, name).toMatchObject({
        triggerEnable: true,
        asyncInvocationType: false,
        eventRuleFilterPattern: expect.any(String),
        eventSourceConfig: { eventSourceType: 'Default' },
      });
    }
  });

  it("selects exactly each guard's events, as API calls and console operations, from its services", () => {
    for (const [name, { props }] of Object.entries(hangzhou.resources)) {
      const trigger = (props.triggers ?? []).find((t) => t.triggerType === 'eventbridge');
      if (!trigger) continue;
      const guard = GUARD_EVENTS[name];
      expect(guard, `${name} has an event trigger but no row in GUARD_EVENTS`).toBeDefined();
      const matches = compilePattern(JSON.parse(String(trigger.triggerConfig.eventRuleFilterPattern)));
      for (const service of ['Oss', 'Ram', 'Ims'] as const) {
        for (const eventName of ALL_EVENTS) {
          const wanted = Boolean(guard?.services.includes(service) && guard.events.includes(eventName));
          for (const eventType of ['ApiCall', 'ConsoleOperation'] as const) {
            expect(
              matches(eventOf(service, eventName, eventType)),
              `${name} ${service} ${eventName} ${eventType}`,
            ).toBe(wanted);
          }
        }
      }
    }
  });
});
