import { createFunctionHandler } from '../../shared/pipeline/handler';
import { sweepTimerSource } from '../../shared/sweep/handler';

export const handler = createFunctionHandler(sweepTimerSource());
