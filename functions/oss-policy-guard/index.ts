import { policyGuard } from '../../shared/guards/policy';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { eventBridgeSource } from '../../shared/pipeline/eventbridge';
import { createFunctionHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

export const handler = createFunctionHandler(eventBridgeSource(policyGuard));
