import type { BuildOptions } from 'esbuild';

export declare const bundleOptions: BuildOptions;
export declare const functionBundleOptions: BuildOptions;
export declare const SDK_MODELS: Readonly<Record<string, readonly string[]>>;
interface BesideBundle {
  module: string;
  file: string;
  entry: string;
}
export declare const BESIDE_CLIENTS: readonly BesideBundle[];
