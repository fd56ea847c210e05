import type { Command } from 'commander';
import { registerAudit } from './audit';
import { registerBootstrap } from './bootstrap';
import { registerCheckPolicy } from './check-policy';
import { registerDoctor } from './doctor';
import { registerInvoke } from './invoke';
import { registerLocal } from './local';
import { registerReplay } from './replay';
import { registerScan } from './scan';
import { registerVerify } from './verify';

/** A CLI command registers itself on the program; `setExit` raises the process exit code. */
export type RegisterCommand = (program: Command, setExit: (code: number) => void) => void;

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
];
