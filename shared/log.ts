/**
 * Structured JSON log lines on stdout, which FC ships to SLS (`logConfig: auto`). Callers pass ids and
 * decisions, never raw events or credentials: the fields are typed as scalars to keep it that way.
 */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(
  base: LogFields = {},
  write: (line: string) => void = (l) => console.log(l),
): Logger {
  const emit = (level: string, message: string, fields: LogFields = {}) =>
    write(JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...fields }));
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}
