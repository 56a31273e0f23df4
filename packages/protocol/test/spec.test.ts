import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderProtocolDoc } from '@corral/protocol';

it('docs/protocol.md tables match the op table (run `npm run docs:protocol` after changing ops)', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'protocol.md'), 'utf8');
  expect(renderProtocolDoc(doc)).toBe(doc);
});
