import { createRamApi } from '../../shared/clients/ram-sdk';
import { keyGuard } from '../../shared/guards/keys';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { eventBridgeSource } from '../../shared/pipeline/eventbridge';
import { createFunctionHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

export const handler = createFunctionHandler(eventBridgeSource(keyGuard), { ram: createRamApi });
