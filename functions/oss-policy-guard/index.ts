import { policyGuard } from '../../shared/guards/policy';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { createHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

export const handler = createHandler(policyGuard);
