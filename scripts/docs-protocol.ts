// Regenerates the op, error and push tables in docs/protocol.md from the protocol package.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderProtocolDoc } from '../packages/protocol/src/spec';

const path = join(__dirname, '..', 'docs', 'protocol.md');
writeFileSync(path, renderProtocolDoc(readFileSync(path, 'utf8')));
console.log(`updated ${path}`);
