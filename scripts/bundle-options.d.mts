import type { BuildOptions } from 'esbuild';

export declare const bundleOptions: BuildOptions;
export declare const functionBundleOptions: BuildOptions;
export declare const SDK_MODELS: Readonly<Record<string, readonly string[]>>;
export declare const KMS_CLIENT: { module: string; file: string; entry: string };
