import { aclGuard } from '../../shared/guards/acl';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { createHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

export const handler = createHandler(aclGuard);
