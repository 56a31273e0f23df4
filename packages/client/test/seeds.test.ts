import { CorralError } from '@corral/protocol';
import { connectFirstSeed, parseAddress } from '../src/seeds';
import { FakePeer, deadPort } from './helpers/fake-peer';

describe('parseAddress', () => {
  it.each([
    ['127.0.0.1:7070', { host: '127.0.0.1', port: 7070 }],
    ['cache-1.internal:80', { host: 'cache-1.internal', port: 80 }],
    ['[::1]:7070', { host: '::1', port: 7070 }],
    [' 7070 ', { host: '127.0.0.1', port: 7070 }],
  ])('%s', (seed, addr) => expect(parseAddress(seed)).toEqual(addr));

  it.each(['', 'host', 'host:', 'host:0', 'host:70000', '::1:7070', 'a:b'])('rejects %j with E_BAD_ARGS', (seed) => {
    expect(() => parseAddress(seed)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGS' }));
  });
});

describe('connectFirstSeed', () => {
  const peers: FakePeer[] = [];
  afterEach(async () => { while (peers.length) await peers.pop()!.stop(); });

  it('skips seeds that do not answer and keeps the first that does', async () => {
    const p = await FakePeer.start();
    peers.push(p);
    const conn = await connectFirstSeed([`127.0.0.1:${await deadPort()}`, `127.0.0.1:${p.port}`], {});
    expect(conn.address.port).toBe(p.port);
    await conn.close();
  });

  it('fails with E_NOT_CONNECTED naming every seed when none answers', async () => {
    const [a, b] = [await deadPort(), await deadPort()];
    const err = await connectFirstSeed([`127.0.0.1:${a}`, `127.0.0.1:${b}`], {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err).toMatchObject({ code: 'E_NOT_CONNECTED', message: expect.stringContaining(String(b)) });
  });

  it('stops at a node that refuses us: the next seed would refuse us too', async () => {
    const refusing = await FakePeer.start();
    const fine = await FakePeer.start();
    peers.push(refusing, fine);
    refusing.hello = { error: new CorralError('E_AUTH', 'wrong token') };
    await expect(connectFirstSeed([`127.0.0.1:${refusing.port}`, `127.0.0.1:${fine.port}`], { auth: 'x' }))
      .rejects.toMatchObject({ code: 'E_AUTH' });
    expect(fine.connections).toBe(0);
  });

  it('needs at least one seed', async () => {
    await expect(connectFirstSeed([], {})).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
  });
});
