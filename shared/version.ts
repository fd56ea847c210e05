declare const OSSGUARD_VERSION: string | undefined;

/** Injected by the esbuild bundle; tests and `tsx` runs see the development marker. */
export const ossguardVersion: string = typeof OSSGUARD_VERSION === 'string' ? OSSGUARD_VERSION : '0.0.0-dev';
