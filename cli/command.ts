import type { Command } from 'commander';

/** A CLI command registers itself on the program; `setExit` raises the process exit code. */
export type RegisterCommand = (program: Command, setExit: (code: number) => void) => void;
