import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneSdkModels } from '../../scripts/bundle-plugins.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A generated SDK in miniature: A and B read each other back through the index, C stands alone. */
const FAKE_MODELS: Record<string, string> = {
  'model.js': `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.C = exports.B = exports.A = void 0;
var A_1 = require("./A");
Object.defineProperty(exports, "A", { enumerable: true, get: function () { return A_1.A; } });
var B_1 = require("./B");
Object.defineProperty(exports, "B", { enumerable: true, get: function () { return B_1.B; } });
var C_1 = require("./C");
Object.defineProperty(exports, "C", { enumerable: true, get: function () { return C_1.C; } });
`,
  'A.js':
    'const model_1 = require("./model");\nclass A { static types() { return { b: model_1.B }; } }\nexports.A = A;\n',
  'B.js':
    'const model_1 = require("./model");\nclass B { static types() { return { a: model_1.A }; } }\nexports.B = B;\n',
  'C.js': 'class C {}\nexports.C = C;\n',
};

let dir: string;
let bundles = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ossguard-prune-'));
  const models = join(dir, 'node_modules', '@fake', 'sdk', 'dist', 'models');
  mkdirSync(models, { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', '@fake', 'sdk', 'package.json'),
    '{"name":"@fake/sdk","main":"dist/client.js"}',
  );
  writeFileSync(join(models, '..', 'client.js'), 'module.exports = require("./models/model");\n');
  for (const [file, source] of Object.entries(FAKE_MODELS)) writeFileSync(join(models, file), source);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Bundles `require(pkg)` with the given table and loads the result: the models as a bundle sees them. */
async function bundled(
  pkg: string,
  table: Record<string, string[]>,
): Promise<{ models: Record<string, unknown>; metafile: Metafile }> {
  const outfile = join(dir, `bundle-${bundles++}.cjs`);
  const { metafile } = await build({
    stdin: {
      contents: `module.exports = require(${JSON.stringify(pkg)});`,
      resolveDir: pkg.startsWith('@fake') ? dir : ROOT,
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    metafile: true,
    logLevel: 'silent',
    plugins: [pruneSdkModels(table)],
  });
  return { models: createRequire(import.meta.url)(outfile), metafile };
}

const touch = (models: Record<string, unknown>, name: string) => () => models[name];

describe('pruneSdkModels', () => {
  it('keeps a listed model and the models it reads back through the index, cycle included', async () => {
    const { models } = await bundled('@fake/sdk', { '@fake/sdk': ['A'] });

    const A = models.A as { types(): { b: { types(): { a: unknown } } } };
    expect(A.types().b.types().a).toBe(A);
  });

  it('throws PrunedSdkModelError naming the model and the table when a pruned model is touched', async () => {
    const { models } = await bundled('@fake/sdk', { '@fake/sdk': ['A'] });

    expect(touch(models, 'C')).toThrow(
      expect.objectContaining({
        name: 'PrunedSdkModelError',
        message: expect.stringMatching(
          /^C of @fake\/sdk is not in this bundle: add it to the pruneSdkModels table/,
        ),
      }),
    );
    expect(Object.keys(models).sort()).toEqual(['A', 'B', 'C']);
  });

  it('leaves a package the table does not name as it is', async () => {
    const { models } = await bundled('@fake/sdk', {});

    expect(models.C).toBeTypeOf('function');
  });

  it('fails the build naming a listed model the SDK does not have', async () => {
    await expect(bundled('@fake/sdk', { '@fake/sdk': ['A', 'GetNothingRequest'] })).rejects.toThrow(
      /@fake\/sdk has no model GetNothingRequest/,
    );
  });

  it('bundles only the listed models of the RAM SDK, which still build requests', async () => {
    const { models, metafile } = await bundled('@alicloud/ram20150501', {
      '@alicloud/ram20150501': ['GetLoginProfileRequest', 'GetLoginProfileResponse'],
    });

    const GetLoginProfileRequest = models.GetLoginProfileRequest as new (
      map: object,
    ) => { userName?: string };
    expect(new GetLoginProfileRequest({ userName: 'bob' }).userName).toBe('bob');
    expect(touch(models, 'CreateUserRequest')).toThrow(
      expect.objectContaining({ name: 'PrunedSdkModelError' }),
    );
    const modelFiles = Object.keys(metafile.inputs)
      .filter((path) => path.includes('ram20150501/dist/models/'))
      .map((path) => path.replace(/.*\/models\//, ''))
      .sort();
    expect(modelFiles).toEqual([
      'GetLoginProfileRequest.js',
      'GetLoginProfileResponse.js',
      'GetLoginProfileResponseBody.js',
      'model.js',
    ]);
  });
});
