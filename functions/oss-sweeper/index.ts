import { createRamApi } from '../../shared/clients/ram-sdk';
import { createFunctionHandler } from '../../shared/pipeline/handler';
import { sweepTimerSource } from '../../shared/sweep/handler';

// RAM/IMS clients: the leak step disables a leaked key, the key-hygiene and console-MFA steps read users and keys.
export const handler = createFunctionHandler(sweepTimerSource(), { ram: createRamApi });
