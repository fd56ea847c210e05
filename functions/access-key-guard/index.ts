import { createRamApi } from '../../shared/clients/ram-sdk';
import { keyGuard } from '../../shared/guards/keys';
import { createHandler } from '../../shared/pipeline/handler';

export const handler = createHandler(keyGuard, { ram: createRamApi });
