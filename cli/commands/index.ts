import type { RegisterCommand } from '../command';
import { registerAudit } from './audit';
import { registerBootstrap } from './bootstrap';
import { registerCheckPolicy } from './check-policy';
import { registerDoctor } from './doctor';
import { registerIncident } from './incident';
import { registerInvoke } from './invoke';
import { registerLocal } from './local';
import { registerReplay } from './replay';
import { registerScan } from './scan';
import { registerVerify } from './verify';

export const commands: RegisterCommand[] = [
  registerLocal,
  registerInvoke,
  registerCheckPolicy,
  registerAudit,
  registerReplay,
  registerScan,
  registerBootstrap,
  registerVerify,
  registerDoctor,
  registerIncident,
];
