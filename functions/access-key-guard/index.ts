import { keyGuard } from '../../shared/guards/keys';
import { createHandler } from '../../shared/pipeline/handler';

export const handler = createHandler(keyGuard);
