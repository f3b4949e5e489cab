// pino, adapted to the Temporal SDK's Logger interface so the runtime and workflow logs are structured JSON too.
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import pino from 'pino';

export function createLogger(level: string): pino.Logger {
  return pino({ level, base: { service: 'slipway-worker' } });
}

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** A Temporal SDK logger that writes through pino. */
export function temporalLogger(logger: pino.Logger): DefaultLogger {
  return new DefaultLogger('INFO', (entry: LogEntry) => {
    const level = LEVELS[entry.level];
    logger[level]({ ...entry.meta, sdk: true }, entry.message);
  });
}
