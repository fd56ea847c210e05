import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleOptions } from '../../scripts/bundle-options.mjs';

/**
 * The supply-chain boundary: what ossguard ships is exactly the reviewed runtime dependencies below, so that
 * `npm audit --omit=dev` (scripts/audit-deps.sh) covers everything the functions and the CLI carry, and
 * nothing else sits in `dependencies`. Adding one means adding it here, with the reason.
 */
const RUNTIME: Readonly<Record<string, string>> = {
  'ali-oss': 'every OSS call: the guards, the audit store, the CLI',
  '@alicloud/openapi-core': 'the POP client under the RAM, IMS and FC SDKs',
  '@alicloud/credentials':
    "the CLI's credentials: the official default chain (environment, aliyun CLI profiles, RamRoleArn, ECS RAM role, OIDC)",
  '@alicloud/ram20150501': 'RAM: the AccessKey guard lists and disables keys',
  '@alicloud/ims20190815': 'IMS: the AccessKey guard finds the owner of a key',
  '@alicloud/sls20201230': 'SLS: the object-ACL guard reads the trail logstore range its log trigger names',
  '@alicloud/fc20230330': 'FC 3.0: `ossguard verify` reads the deployed functions and triggers',
  '@darabonba/typescript': 'the runtime of the Alibaba SDKs, imported for its request options',
  nodemailer: 'email alerts',
  lz4js: 'SLS: lz4 block bodies of PullLogs, plain JS (also behind the lz4-napi shim the SDK gateway loads)',
  pbf: 'SLS: the LogGroupList protobuf PullLogs documents (read when JSON is not served)',
  zod: 'config validation',
  yaml: 'config parsing',
  commander: 'the CLI',
  'ipaddr.js': 'IP addresses and CIDR blocks (shared/network.ts), IPv4-mapped IPv6 included',
  'escape-html': 'HTML escaping of untrusted values in email alerts and `ossguard audit report --html`',
  'string-width': 'terminal columns of CJK and emoji names, so CLI tables align',
  'p-limit':
    'bounded concurrency: mapLimited (audit reads, `ossguard scan`) and the pipeline and sweep pools',
};

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const declared = Object.keys(pkg.dependencies ?? {}).sort();

/** `@scope/name` or `name` of a bare import specifier or a node_modules path. */
const packageOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file));
}

/** Packages the shipped code imports: the functions, what they share, and the CLI (not the local cloud). */
function importedPackages(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of ['functions', 'shared', 'cli'].flatMap(sources)) {
    const text = readFileSync(join(root, file), 'utf8');
    // Import and export statements at the start of a line, and dynamic imports; not `from '` inside a string.
    const imports = /^(?:import|export)\s[^'";]*?\bfrom\s+'([^'.][^']*)'|\bimport\(\s*'([^'.][^']*)'\s*\)/gm;
    for (const [, fromSpecifier, dynamicSpecifier] of text.matchAll(imports)) {
      const specifier = fromSpecifier ?? dynamicSpecifier;
      if (!specifier || specifier.startsWith('node:')) continue;
      const name = packageOf(specifier);
      found.set(name, [...(found.get(name) ?? []), file]);
    }
  }
  return found;
}

describe('runtime dependencies', () => {
  it('are exactly the reviewed set', () => {
    expect(declared).toEqual(Object.keys(RUNTIME).sort());
  });

  it('include every package the shipped code imports, so npm audit --omit=dev sees it', () => {
    const missing = [...importedPackages()].filter(([name]) => !declared.includes(name));
    expect(missing.map(([name, files]) => `${name} (imported by ${files[0]})`)).toEqual([]);
  });

  it('are each imported by the shipped code', () => {
    const imported = importedPackages();
    expect(declared.filter((name) => !imported.has(name))).toEqual([]);
  });

  it('cover every package bundled into the functions, transitive ones included', async () => {
    const tree = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: root,
      encoding: 'utf8',
    });
    const installed = new Set(
      tree
        .split('\n')
        .filter((line) => line.includes(`node_modules${sep}`))
        .map((line) =>
          packageOf(line.slice(line.lastIndexOf(`node_modules${sep}`) + 'node_modules/'.length)),
        ),
    );
    const entryPoints = readdirSync(join(root, 'functions')).map((fn) =>
      join(root, 'functions', fn, 'index.ts'),
    );
    const { metafile } = await build({
      entryPoints,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      outdir: 'out',
      metafile: true,
      logLevel: 'silent',
      external: bundleOptions.external,
      alias: bundleOptions.alias,
    });
    const bundled = new Set(
      Object.keys(metafile.inputs)
        .filter((input) => input.includes('node_modules/'))
        .map((input) => packageOf(relative('node_modules', input.slice(input.lastIndexOf('node_modules/'))))),
    );
    expect(bundled.size).toBeGreaterThan(5);
    expect([...bundled].filter((name) => !installed.has(name))).toEqual([]);
  });
});
