// esbuild plugins for the function bundles (scripts/bundle-options.mjs), whose size is their cold start.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Thrown, by name, when a bundle touches an SDK model that pruneSdkModels left out. */
const PRUNED_ERROR = 'PrunedSdkModelError';

const RE_EXPORT_REQUIRE = /^var (\w+) = require\("\.\/([\w.-]+)"\);$/;
const RE_EXPORT_GETTER =
  /^Object\.defineProperty\(exports, "(\w+)", \{ enumerable: true, get: function \(\) \{ return (\w+)\.(\w+); \} \}\);$/;
/** Lines of the index that are neither a re-export nor harmless. */
const RE_INDEX_NOISE =
  /^("use strict";|Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);|exports\.[\w.= ]+ = void 0;|\/\/.*|)$/;

/**
 * Reads a generated SDK's models index (`dist/models/model.js`: `var X_1 = require("./File")` followed by one
 * getter per exported model) into model name → file (without `.js`). Anything else in it fails the build, so
 * an SDK generated differently is noticed here rather than bundled half-pruned.
 */
export function readModelsIndex(indexPath) {
  const files = new Map();
  const models = new Map();
  const unknown = [];
  for (const line of readFileSync(indexPath, 'utf8').split('\n')) {
    const required = RE_EXPORT_REQUIRE.exec(line);
    const getter = RE_EXPORT_GETTER.exec(line);
    if (required) files.set(required[1], required[2]);
    else if (getter && files.has(getter[2]) && getter[1] === getter[3])
      models.set(getter[1], files.get(getter[2]));
    else if (!RE_INDEX_NOISE.test(line)) unknown.push(line.slice(0, 120));
  }
  if (unknown.length > 0 || models.size === 0) {
    throw new Error(
      `${indexPath} is not a models index of the expected shape (re-exports only); first unexpected line: ${unknown[0] ?? '(no models)'}`,
    );
  }
  return models;
}

/**
 * The model files that `wanted` needs: their own files, the files those require, and the files of the models
 * they read back through the index (`const model_1 = require("./model")`, then `model_1.Name`). A visited set
 * ends the cycles that back-references make.
 */
function closure(modelsDir, models, indexFile, wanted) {
  const files = new Set();
  const pending = wanted.map((name) => models.get(name));
  while (pending.length > 0) {
    const file = pending.pop();
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(join(modelsDir, `${file}.js`), 'utf8');
    for (const [, binding, required] of source.matchAll(
      /(?:(\w+) = )?(?:__import\w+\()?require\("\.\/([\w.-]+)"\)/g,
    )) {
      if (required !== indexFile) {
        pending.push(required);
        continue;
      }
      if (!binding)
        throw new Error(`${join(modelsDir, file)}.js requires the models index without naming it`);
      for (const [, name] of source.matchAll(new RegExp(`\\b${binding}\\.(\\w+)`, 'g'))) {
        if (models.has(name)) pending.push(models.get(name));
      }
    }
  }
  return files;
}

/**
 * Generated Alibaba Cloud SDKs (`@alicloud/ram20150501`, `@alicloud/ims20190815`, `@alicloud/sls20201230`…)
 * keep hundreds of request/response model classes in `dist/models/`, all required by one index that the
 * client requires, so esbuild has to bundle every one: ~1 MB for the RAM and IMS SDKs, for four calls. This
 * replaces the index of each package in `table` with one that exports the listed models and whatever they
 * need, and throws PrunedSdkModelError when any other model is touched (a getter per pruned name, so
 * `new $Ram.CreateUserRequest()` fails naming the model, not as `new undefined`). A listed model that the
 * SDK does not have fails the build. Kept models are required on first use, as the original index would
 * have required them all at load.
 *
 * `table`: package name → model names, e.g. `{ '@alicloud/ram20150501': ['GetUserRequest'] }`. Each call
 * `client.x(new XRequest())` needs `XRequest` and `XResponse` (the client casts its answer into one).
 */
export function pruneSdkModels(table) {
  return {
    name: 'prune-sdk-models',
    setup(build) {
      build.onLoad({ filter: /[\\/]dist[\\/]models[\\/]model\.js$/ }, (args) => {
        const modelsDir = dirname(args.path);
        const packageDir = dirname(dirname(modelsDir));
        const manifest = join(packageDir, 'package.json');
        if (!existsSync(manifest)) return undefined;
        const { name: packageName } = JSON.parse(readFileSync(manifest, 'utf8'));
        const wanted = table[packageName];
        if (!wanted) return undefined;
        const models = readModelsIndex(args.path);
        const missing = wanted.filter((name) => !models.has(name));
        if (missing.length > 0) {
          return {
            errors: [
              {
                text: `${packageName} has no model ${missing.join(', ')} (listed in the pruneSdkModels table, scripts/bundle-options.mjs)`,
              },
            ],
          };
        }
        const kept = closure(modelsDir, models, 'model', wanted);
        const keptNames = [...models].filter(([, file]) => kept.has(file)).map(([name]) => name);
        const prunedNames = [...models.keys()].filter((name) => !keptNames.includes(name));
        const getters = keptNames.map(
          (name) =>
            `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => require(${JSON.stringify(`./${models.get(name)}`)}).${name} });`,
        );
        const contents = `"use strict";
// Generated by pruneSdkModels (scripts/bundle-plugins.mjs) in place of ${relative(packageDir, args.path)}.
Object.defineProperty(exports, "__esModule", { value: true });
${getters.join('\n')}
for (const name of ${JSON.stringify(prunedNames)}) {
  Object.defineProperty(exports, name, {
    enumerable: true,
    get() {
      const error = new Error(name + " of ${packageName} is not in this bundle: add it to the pruneSdkModels table in scripts/bundle-options.mjs");
      error.name = ${JSON.stringify(PRUNED_ERROR)};
      throw error;
    },
  });
}
`;
        return { contents, loader: 'js', resolveDir: modelsDir };
      });
    },
  };
}

/**
 * Replaces `module` with `shim` only where `importer` (a path pattern) requires it, for code a bundle
 * carries but can never run, without touching other users of the same module.
 */
export function importerShims(shims) {
  return {
    name: 'importer-shims',
    setup(build) {
      const filter = new RegExp(
        `^(${shims.map((s) => s.module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`,
      );
      build.onResolve({ filter }, (args) => {
        const shim = shims.find((s) => s.module === args.path && s.importer.test(args.importer));
        return shim ? { path: shim.shim } : undefined;
      });
    },
  };
}

/**
 * Leaves a module that only some deployments load out of the bundle: a `require` of `module` becomes a
 * require of `file` beside the bundle, which scripts/build.mjs writes from the same module. The KMS client
 * (openapi-core, @alicloud/credentials, @darabonba: about 250 KB) is needed only where the config names KMS
 * secrets, nodemailer (247 KB) only once an email goes out; both would otherwise ride in, and be parsed by,
 * every function at its cold start.
 */
export function besideBundle({ module, file }) {
  return {
    name: 'beside-bundle',
    setup(build) {
      const filter = new RegExp(`${module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
      build.onResolve({ filter }, (args) =>
        args.kind === 'require-call' ? { path: `./${file}`, external: true } : undefined,
      );
    },
  };
}
