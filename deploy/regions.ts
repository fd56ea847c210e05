import { type FunctionSpec, loadFunctions } from '../local/eventbus/triggers';

/**
 * Serverless Devs 3 has no loops, so s.yaml describes one region per run (`${env('OSSGUARD_REGION')}`) and
 * deploy/deploy.sh runs it once per region listed in OSSGUARD_REGIONS. What is deployed across all regions is
 * therefore the union of the s.yaml rendered once per region; resources pinned to a region (access-key-guard
 * in cn-shanghai) render the same every time and count once.
 */
export const DEFAULT_REGION = 'cn-hangzhou';

/** `OSSGUARD_REGIONS`, separated by commas or spaces, like deploy.sh reads it. */
export function deployRegions(value: string | undefined): string[] {
  const regions = (value ?? '').split(/[\s,]+/).filter(Boolean);
  return regions.length > 0 ? [...new Set(regions)] : [DEFAULT_REGION];
}

export interface RenderPaths {
  sYaml: string;
  /** The `s` CLI script, when this code runs bundled. */
  sBin?: string;
}

export async function deployedFunctions(
  paths: RenderPaths,
  regions: readonly string[],
): Promise<FunctionSpec[]> {
  const rendered = await Promise.all(
    regions.map((region) =>
      loadFunctions(paths.sYaml, {
        env: { OSSGUARD_REGION: region },
        ...(paths.sBin ? { sBin: paths.sBin } : {}),
      }),
    ),
  );
  const seen = new Map<string, FunctionSpec>();
  for (const fn of rendered.flat()) seen.set(`${fn.region}/${fn.functionName}`, fn);
  return [...seen.values()];
}
