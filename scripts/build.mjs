// Bundles each folder under functions/ into dist/<function>/index.js (CommonJS, `exports.handler`), the shape
// the FC nodejs20 runtime loads, and the CLI into dist/cli/ossguard.cjs.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BESIDE_CLIENTS, bundleOptions, functionBundleOptions } from './bundle-options.mjs';
import { writeRulesRegistry } from './gen-rules-registry.mjs';

const root = new URL('..', import.meta.url).pathname;
// The bundles import the rule registry the rule files make (shared/rules/index.ts).
writeRulesRegistry();
const functionsDir = join(root, 'functions');
const functions = readdirSync(functionsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(functionsDir, entry.name, 'index.ts')))
  .map((entry) => entry.name);

// Overwrite in place rather than wiping dist/: a running local cloud or test keeps loading the bundles while
// a rebuild happens. Only bundles of functions that no longer exist are removed.
for (const entry of existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')) : []) {
  if (entry !== 'cli' && !functions.includes(entry))
    rmSync(join(root, 'dist', entry), { recursive: true, force: true });
}

await Promise.all([
  ...functions.map(async (name) => {
    const outdir = join(root, 'dist', name);
    await build({
      ...functionBundleOptions,
      entryPoints: [join(functionsDir, name, 'index.ts')],
      outfile: join(outdir, 'index.js'),
    });
    for (const beside of BESIDE_CLIENTS) {
      await build({
        ...functionBundleOptions,
        entryPoints: [beside.entry],
        outfile: join(outdir, beside.file),
      });
    }
    // The repo's package.json says "type": "module"; this keeps Node treating the bundle as CommonJS locally too.
    writeFileSync(join(outdir, 'package.json'), '{"type":"commonjs"}\n');
  }),
  build({
    ...bundleOptions,
    minify: false,
    // local/ resolves worker.cjs and the `s` CLI through import.meta.url unless given paths; the CLI passes them.
    logOverride: { 'empty-import-meta': 'silent' },
    entryPoints: [join(root, 'cli', 'index.ts')],
    outfile: join(root, 'dist', 'cli', 'ossguard.cjs'),
  }),
]);

console.log(
  `built ${functions.length} function bundle(s): ${functions.join(', ')}; CLI: dist/cli/ossguard.cjs`,
);
