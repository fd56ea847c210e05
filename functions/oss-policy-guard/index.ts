import { policyGuard } from '../../shared/guards/policy';
import { createHandler } from '../../shared/pipeline/handler';

export const handler = createHandler(policyGuard);
