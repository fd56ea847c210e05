import { readFileSync } from 'node:fs';
import { DOCTOR_CHECKS, runDoctor } from '../../deploy/doctor';
import { deployedFunctions, deployRegions } from '../../deploy/regions';
import { parseConfig } from '../../shared/config/load';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { type AccountSpec, organizationCaller, parseAccounts } from '../organization';
import { checkoutPaths, deployTarget, withTargetOptions } from '../target';

/**
 * `ossguard doctor`: read-only checks of everything ossguard needs in an account (deploy/doctor.ts), one line
 * each, ✓ or ✗ with a one-line fix. Exit 1 when any check fails, as `verify` does.
 */

interface DoctorOptions {
  local?: boolean;
  region?: string;
  regions?: string;
  config?: string;
  sYaml?: string;
  json?: boolean;
  accounts?: AccountSpec;
}

const helpText = (): string => {
  const width = Math.max(...DOCTOR_CHECKS.map(([id]) => id.length));
  return [
    '',
    'Checks (each prints ✓, ✗ or ! for a warning; a ✗ or ! line ends with its fix):',
    ...DOCTOR_CHECKS.map(([id, explains]) => `  ${id.padEnd(width)}  ${explains}`),
    '',
    'The trail settings come from the config (`trail`: name, region, project, retentionDays, ossReadEvents).',
    'Nothing is changed: `ossguard bootstrap`, `s deploy` and `ossguard audit lock` make the checks pass.',
    'Exit codes: 0 all checks pass (warnings allowed), 1 a check fails, 2 unusable input.',
  ].join('\n');
};

export const registerDoctor: RegisterCommand = (program, setExit) => {
  withTargetOptions(
    program
      .command('doctor')
      .description(
        'Read-only checks that the account has what ossguard needs: the trail (logging, all regions, all ' +
          'management events, OSS data events) writing to the logstore the log trigger reads, its TTL, the ' +
          'trigger-log logstore, the roles and their trust, the deployed functions and triggers, the path ' +
          'each region is guarded by, and the audit bucket with its retention.',
      ),
  )
    .option('--regions <list>', 'regions deployed to (default: OSSGUARD_REGIONS, else cn-hangzhou)')
    .option(
      '--config <file>',
      "ossguard config (default: the local cloud's with --local, else ossguard.config.yaml)",
    )
    .option('--s-yaml <file>', "the s.yaml (default: the checkout's)")
    .option('--json', 'one JSON object per check')
    .option(
      '--accounts <all|id,...>',
      "with an organization: the members whose role to try (default: the config's organization.accounts)",
      parseAccounts,
    )
    .addHelpText('after', helpText)
    .action(async (options: DoctorOptions) => {
      const target = await deployTarget(options);
      await warnIfRootAccount(target, options);
      const configFile = options.config ?? target.local?.configFile ?? 'ossguard.config.yaml';
      const config = parseConfig(readFileSync(configFile, 'utf8'));
      const regions = deployRegions(options.regions ?? process.env.OSSGUARD_REGIONS);
      const functions = await deployedFunctions(
        { ...checkoutPaths(), ...(options.sYaml ? { sYaml: options.sYaml } : {}) },
        regions,
      );
      const checks = await runDoctor({
        credentials: target.credentials,
        endpoints: { ...target.endpoints, ...(target.local?.fc ? { fc: target.local.fc } : {}) },
        ...(target.local ? { local: { accountId: target.local.accountId } } : {}),
        config,
        functions,
        regions,
        ...(process.env.OSSGUARD_HOME_REGION ? { homeRegion: process.env.OSSGUARD_HOME_REGION } : {}),
        env: process.env,
        memberCaller: organizationCaller(target),
        ...(options.accounts ? { accounts: options.accounts } : {}),
      });
      for (const check of checks) {
        if (options.json) {
          process.stdout.write(`${JSON.stringify(check)}\n`);
          continue;
        }
        const fix = check.ok || !check.fix ? '' : ` → fix: ${check.fix}`;
        const mark = check.ok ? '✓' : check.warning ? '!' : '✗';
        process.stdout.write(`${mark} ${check.title}: ${check.detail}${fix}\n`);
      }
      if (checks.some((c) => !c.ok && !c.warning)) setExit(1);
    });
};
