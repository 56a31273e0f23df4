/**
 * What the client logs through. The shape is pino's (`logger.warn({ fields }, 'message')`), so a
 * pino logger, or a child of one, can be passed as is; nothing is logged unless one is given.
 */
export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

const ignore = (): void => {};
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
