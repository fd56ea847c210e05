import { createRamApi } from '../../shared/clients/ram-sdk';
import { createSlsApi } from '../../shared/clients/sls';
import { sizeHeapForSmallInstance } from '../../shared/heap';
import { logTriggerSource } from '../../shared/logtrigger/handler';
import { createFunctionHandler } from '../../shared/pipeline/handler';

sizeHeapForSmallInstance();

export const handler = createFunctionHandler(logTriggerSource(createSlsApi), { ram: createRamApi });
