import type { Plugin } from 'esbuild';

export declare function readModelsIndex(indexPath: string): Map<string, string>;
export declare function pruneSdkModels(table: Readonly<Record<string, readonly string[]>>): Plugin;
export declare function importerShims(
  shims: ReadonlyArray<{ module: string; importer: RegExp; shim: string }>,
): Plugin;
export declare function besideBundle(options: { module: string; file: string }): Plugin;
