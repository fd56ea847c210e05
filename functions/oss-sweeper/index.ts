import { createRamApi } from '../../shared/clients/ram-sdk';
import { createFunctionHandler } from '../../shared/pipeline/handler';
import { sweepTimerSource } from '../../shared/sweep/handler';

// RAM/IMS clients for the leak step: a leaked key is disabled through RAM UpdateAccessKey.
export const handler = createFunctionHandler(sweepTimerSource(), { ram: createRamApi });
