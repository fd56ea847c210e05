import { createSweepHandler } from '../../shared/sweep/handler';

export const handler = createSweepHandler();
