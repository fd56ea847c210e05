import { createSlsApi } from '../../shared/clients/sls';
import { createLogTriggerHandler } from '../../shared/logtrigger/handler';

export const handler = createLogTriggerHandler(createSlsApi);
