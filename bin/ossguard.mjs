#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const cli = new URL('../dist/cli/ossguard.cjs', import.meta.url);
if (!existsSync(cli)) {
  console.error('ossguard: the CLI is not built yet. Run `npm run build` in the ossguard checkout first.');
  process.exit(2);
}
// `ossguard scan --json | head`: a reader that stops early is not an error of ossguard's.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = createRequire(import.meta.url)(cli.pathname);
process.exitCode = await main(process.argv.slice(2));
