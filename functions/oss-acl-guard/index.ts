import { aclGuard } from '../../shared/guards/acl';
import { createHandler } from '../../shared/pipeline/handler';

export const handler = createHandler(aclGuard);
