import { Command, CommanderError } from 'commander';
import { ossguardVersion } from '../shared/version';
import { commands } from './commands';

/** Exit codes: 0 ok, 1 findings or failures, 2 unusable input or usage error. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('ossguard')
    .description(
      'Auto-remediation for public OSS buckets, over-broad bucket policies and long-lived AccessKeys',
    )
    .version(ossguardVersion)
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;
  for (const register of commands)
    register(program, (code) => {
      exitCode = Math.max(exitCode, code);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    console.error(`ossguard: ${error instanceof Error ? error.message : String(error)}`);
    return exitCode || 1;
  }
  return exitCode;
}
