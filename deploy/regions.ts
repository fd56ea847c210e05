import { type FunctionSpec, loadFunctions } from '../shared/deployment/syaml';
import eventBridgeOssRegions from './eventbridge-oss-regions.json';

/**
 * Serverless Devs 3 has no loops, so s.yaml describes one region per run (`${env('OSSGUARD_REGION')}`) and
 * deploy/deploy.sh runs it once per region listed in OSSGUARD_REGIONS, the first being the home region
 * (OSSGUARD_HOME_REGION) of trail-guard and the other regionless functions. What is deployed across all
 * regions is therefore the union of the s.yaml rendered once per region, without the EventBridge-only
 * functions of regions whose bus receives no OSS events; resources pinned to the home region render the same
 * every time and count once.
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
  const home = regions[0] ?? DEFAULT_REGION;
  const rendered = await Promise.all(
    regions.map((region) =>
      loadFunctions(paths.sYaml, {
        env: { OSSGUARD_REGION: region, OSSGUARD_HOME_REGION: home },
        ...(paths.sBin ? { sBin: paths.sBin } : {}),
      }),
    ),
  );
  const seen = new Map<string, FunctionSpec>();
  for (const fn of rendered.flat().filter(isDeployedIn)) seen.set(`${fn.region}/${fn.functionName}`, fn);
  return [...seen.values()];
}

/** A function triggered only by EventBridge is useful only where the bus receives OSS events. */
export const isDeployedIn = (fn: Pick<FunctionSpec, 'region' | 'triggers'>): boolean =>
  OSS_EVENTBRIDGE_REGIONS.includes(fn.region) || fn.triggers.some((t) => t.type !== 'eventbridge');

/**
 * Regions whose EventBridge default bus receives OSS events, ActionTrail's `oss:ActionTrail:*` included
 * (F-EVENTBRIDGE-OSS-REGIONS): Hangzhou, Shanghai, Beijing, Zhangjiakou, Shenzhen, Chengdu, US (Silicon
 * Valley), Singapore, Japan (Tokyo), plus South Korea (Seoul), which some copies of the page add. A region
 * outside this list is guarded only through the trail logstore and its log-triggered function. The list is
 * data (deploy/eventbridge-oss-regions.json) because deploy/deploy.sh reads it too.
 */
export const OSS_EVENTBRIDGE_REGIONS: readonly string[] = eventBridgeOssRegions;
