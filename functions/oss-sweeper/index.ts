import { sizeHeapForSmallInstance } from '../../shared/heap';
import { createSweepHandler } from '../../shared/sweep/handler';

sizeHeapForSmallInstance();

export const handler = createSweepHandler();
