import { createRamApi } from '../../shared/clients/ram-sdk';
import { keyGuard } from '../../shared/guards/keys';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { createHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

export const handler = createHandler(keyGuard, { ram: createRamApi });
