import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** `ossguard local` started in a child process, as a user starts it. */
export interface LocalCli {
  child: ChildProcess;
  /** All it has printed so far, stdout and stderr. */
  readonly output: string;
}

/**
 * Starts `ossguard local <args>` from bin/ and resolves once it has printed its whole ready line; rejects with
 * what it printed if it exits first or prints none within a minute (and then stops it).
 */
export async function startLocalCli(
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv },
): Promise<LocalCli> {
  const child = spawn(process.execPath, [join(process.cwd(), 'bin', 'ossguard.mjs'), 'local', ...args], {
    ...options,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      fail(new Error(`no ready line:\n${output}`));
    }, 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (/^ossguard local ready .*\n/m.test(output)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`exited ${code}:\n${output}`));
    });
  });
  return {
    child,
    get output() {
      return output;
    },
  };
}
