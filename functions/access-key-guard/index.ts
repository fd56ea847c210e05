import { createRamApi } from '../../shared/clients/ram-sdk';
import { identityPolicyGuard } from '../../shared/guards/identity-policy';
import { keyGuard } from '../../shared/guards/keys';
import { roleTrustGuard } from '../../shared/guards/role-trust';
import { userTagGuard } from '../../shared/guards/user-tags';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { eventBridgeSource } from '../../shared/pipeline/eventbridge';
import { createFunctionHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

// RAM's identity-policy and role events and IMS's user tagging come on the same EventBridge filter
// (F-EVENTBRIDGE-RAM-SOURCE): judged here too, not only from the trail.
export const handler = createFunctionHandler(
  eventBridgeSource(keyGuard, identityPolicyGuard, userTagGuard, roleTrustGuard),
  { ram: createRamApi },
);
