/**
 * What the executor knows about the connection a request came on. Transport-independent: the
 * native listener and the RESP door each keep one per connection.
 */
export interface ConnectionContext {
  readonly id: number;
  /** The peer, for logs ("127.0.0.1:53412"). */
  readonly remote: string;
  hello: boolean;
  admin: boolean;
  clientName?: string;
}

export function newConnectionContext(id: number, remote: string): ConnectionContext {
  return { id, remote, hello: false, admin: false };
}
