import { createRamApi } from '../../shared/clients/ram-sdk';
import { createFunctionHandler } from '../../shared/pipeline/handler';
import { sweepTimerSource } from '../../shared/sweep/handler';

export const handler = createFunctionHandler(sweepTimerSource(), { ram: createRamApi });
