import { createRamApi } from '../../shared/clients/ram-sdk';
import { createSlsApi } from '../../shared/clients/sls';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { createLogTriggerHandler } from '../../shared/logtrigger/handler';

sizeHeapForSmallInstance();

export const handler = createLogTriggerHandler(createSlsApi, { ram: createRamApi });
