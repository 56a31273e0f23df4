import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The node's root logger: JSON lines on stdout. Synchronous writes so the last lines before an
 * exit (node_stopped, a crash) are not lost in a buffer; components log through
 * `logger.child({ component })`.
 */
export function createNodeLogger(level: string = process.env['CORRAL_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level }, pino.destination({ dest: 1, sync: true }));
}
