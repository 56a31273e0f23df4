import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WarmLoader } from '@corral/client';

/**
 * The keys to warm: a JSON array of strings, or one key per line (blank lines and lines starting
 * with # are skipped). Duplicates are dropped, the order is kept (put the hottest first).
 */
export function readKeysFile(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  let keys: unknown[];
  if (text.trimStart().startsWith('[')) {
    try {
      keys = JSON.parse(text) as unknown[];
    } catch (e) {
      throw new Error(`${path} starts like a JSON array but is not JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k === ''))
      throw new Error(`${path}: a JSON keys file is an array of non-empty strings`);
  } else {
    keys = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  }
  return [...new Set(keys as string[])];
}

// A real dynamic import: TypeScript compiles `import()` to require() for CommonJS output, and
// require() cannot load an ES module (.mjs, or "type": "module").
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<Record<string, unknown>>;

/**
 * The user's loader: a module (CommonJS or ES) that exports `load(key, ctx)`, or a default export
 * that is that function (or an object with `load`). Resolved against the working directory.
 */
export async function loadLoaderModule(spec: string): Promise<WarmLoader> {
  const path = resolve(spec);
  let mod: Record<string, unknown>;
  try {
    mod = require(path) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw e;
    mod = await importModule(pathToFileURL(path).href);
  }
  const fn = pick(mod) ?? pick(mod['default']);
  if (fn === undefined) throw new Error(`${spec} exports no loader: export \`async function load(key)\` or a default function`);
  return fn;
}

function pick(m: unknown): WarmLoader | undefined {
  if (typeof m === 'function') return m as WarmLoader;
  if (typeof m === 'object' && m !== null) {
    const load = (m as Record<string, unknown>)['load'];
    if (typeof load === 'function') return load as WarmLoader;
  }
  return undefined;
}
