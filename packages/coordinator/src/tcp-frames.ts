import type { Socket } from 'node:net';

/** TCP push-pull frames: [u32 big-endian length][envelope]. One request and one reply per connection. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
}

export function writeFrame(socket: Socket, payload: Buffer): void {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(payload.length, 0);
  socket.write(Buffer.concat([header, payload]));
}

/**
 * Resolves with the first frame's payload. The declared length is checked against `maxBytes`
 * before anything is buffered past the header, so a peer cannot make us allocate its claim.
 */
export function readFrame(socket: Socket, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let expected = -1;

    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('connection closed before a full frame arrived'));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (expected < 0 && received >= 4) {
        expected = Buffer.concat(chunks).readUInt32BE(0);
        if (expected > maxBytes) {
          cleanup();
          reject(new FrameTooLargeError(`frame of ${expected} bytes over the ${maxBytes} limit`));
          return;
        }
      }
      if (expected >= 0 && received >= 4 + expected) {
        cleanup();
        resolve(Buffer.concat(chunks).subarray(4, 4 + expected));
      } else if (received > 4 + maxBytes) {
        cleanup();
        reject(new FrameTooLargeError('frame over the limit'));
      }
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}
