// esbuild options shared by scripts/build.mjs and the cold-start benchmark's SDK-only floor
// (bench/cold-start.ts), so that floor is bundled exactly like the functions it is compared with.
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** For every bundle: the functions and the CLI. */
export const bundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  // Error classes take their `name` from the class (GuardError: `new.target.name`); audit records and FC
  // error types must say ConfigValidationError, not a minified identifier.
  keepNames: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // urllib requires proxy-agent only when ali-oss is given `enableProxy`, which ossguard never sets.
  external: ['proxy-agent'],
  define: { OSSGUARD_VERSION: JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
};

/**
 * For the function bundles, whose size is their cold start. The CLI keeps the real iconv-lite: it runs the
 * local cloud, whose SMTP server decodes mail in any charset.
 */
export const functionBundleOptions = {
  ...bundleOptions,
  alias: { 'iconv-lite': join(root, 'scripts', 'shims', 'iconv-lite.cjs') },
};
