import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { main } from '../../cli';
import type { CloudTarget, LocalState } from '../../cli/target';
import type { LocalCloud } from '../../local/cloud';
import type { ReplayedEvent, ReplaySummary } from '../../shared/replay/replay';

/** Runs the CLI in-process, as `ossguard <args>` would, and captures what it prints. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (text: string) => void) => (chunk: string | Uint8Array) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((t) => (stdout += t)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((t) => (stderr += t)));
  // Vitest routes console output around process.stderr: the CLI's errors and the SDKs' warnings go here.
  const consoleLine = (...parts: unknown[]) => {
    stderr += `${parts.map(String).join(' ')}\n`;
  };
  const consoleErr = vi.spyOn(console, 'error').mockImplementation(consoleLine);
  const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(consoleLine);
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    consoleErr.mockRestore();
    consoleWarn.mockRestore();
  }
}

/** What `ossguard replay --json` printed, a line an event and then the summary line, and its exit code. */
export interface ReplayRun {
  code: number;
  events: ReplayedEvent[];
  summary: ReplaySummary;
  stderr: string;
}

/** `ossguard replay --local --json …` in-process, against the running local cloud. */
export async function replayLocal(...args: string[]): Promise<ReplayRun> {
  const { code, stdout, stderr } = await runCli('replay', '--local', '--json', ...args);
  const lines = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = lines.pop() as { summary: ReplaySummary } | undefined;
  if (!last?.summary) throw new Error(`replay printed no summary (exit ${code}): ${stdout}${stderr}`);
  return { code, events: lines as unknown as ReplayedEvent[], summary: last.summary, stderr };
}

const previousState = process.env.OSSGUARD_LOCAL_STATE;

/** Writes what `ossguard local` would write once ready, and points `--local` commands at it. */
export function useLocalState(cloud: LocalCloud, dir: string): void {
  const state: LocalState = { ...cloud.readyInfo(), functionEnv: cloud.functionEnv() };
  writeFileSync(join(dir, 'ready.json'), JSON.stringify(state));
  process.env.OSSGUARD_LOCAL_STATE = join(dir, 'ready.json');
}

/** Undoes useLocalState for whatever runs next in the same worker. */
export function restoreLocalState(): void {
  if (previousState === undefined) delete process.env.OSSGUARD_LOCAL_STATE;
  else process.env.OSSGUARD_LOCAL_STATE = previousState;
}

/**
 * The local cloud as a deployer sees it: the account's root key and the emulated endpoints. Not its ready
 * info, which hands out a session of the function role and so would create that role.
 */
export function rootTarget(cloud: LocalCloud): CloudTarget {
  const { rootKey } = cloud.identities;
  return {
    kind: 'local',
    region: cloud.region,
    credentials: { accessKeyId: rootKey.accessKeyId, accessKeySecret: rootKey.accessKeySecret },
    endpoints: {
      oss: cloud.endpoints.oss,
      ram: cloud.endpoints.ram,
      ims: cloud.endpoints.ram,
      actiontrail: cloud.endpoints.actiontrail,
      sls: cloud.endpoints.sls,
      kms: cloud.endpoints.kms,
    },
  };
}

/**
 * Leaves the credential chain nothing ambient to find: no ALIBABA_CLOUD_* keys, a HOME with no aliyun CLI
 * config or credentials file, and no ECS metadata server to ask. Undo with `vi.unstubAllEnvs()`.
 */
export function noAmbientCredentials(home: string): void {
  for (const name of [
    'ALIBABA_CLOUD_ACCESS_KEY_ID',
    'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    'ALIBABA_CLOUD_SECURITY_TOKEN',
    'ALIBABA_CLOUD_PROFILE',
    'ALIBABA_CLOUD_CREDENTIALS_FILE',
    'ALIBABA_CLOUD_ROLE_ARN',
    'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
    'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    'ALIBABA_CLOUD_CREDENTIALS_URI',
  ]) {
    vi.stubEnv(name, '');
  }
  vi.stubEnv('HOME', home);
  vi.stubEnv('ALIBABA_CLOUD_ECS_METADATA_DISABLED', 'true');
}

/** Writes `home`/.aliyun/config.json as `aliyun configure` would. */
export function aliyunProfiles(
  home: string,
  profiles: Array<Record<string, unknown>>,
  current = 'default',
): void {
  mkdirSync(join(home, '.aliyun'), { recursive: true });
  writeFileSync(join(home, '.aliyun', 'config.json'), JSON.stringify({ current, profiles }));
}
