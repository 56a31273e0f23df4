import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { SchemaIssue } from './field-reader';
import { ScenarioSchema } from './scenario-schema';
import type { Scenario } from './scenario-types';

/** A scenario file that cannot be run; `message` lists every problem, each with its line when known. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(readonly file: string, readonly issues: Array<SchemaIssue & { line?: number }>) {
    super(`${file} is not a valid scenario:\n${issues.map((i) => `  ${i.line !== undefined ? `line ${i.line}: ` : ''}${i.path}: ${i.message}`).join('\n')}`);
  }
}

/** Reads and validates a scenario file. JSON is YAML too, so one parser serves both and gives line numbers for either. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(file, [{ path: '(file)', message: `cannot be read: ${(e as Error).message}` }]);
  }
  return parseScenarioText(text, file);
}

export function parseScenarioText(text: string, file = '(scenario)'): Scenario {
  if (!['.yaml', '.yml', '.json', ''].includes(extname(file).toLowerCase()) && file !== '(scenario)')
    throw new ScenarioError(file, [{ path: '(file)', message: 'must be a .yaml, .yml or .json file' }]);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ScenarioError(file, doc.errors.map((e) => ({ path: '(syntax)', message: e.message.split('\n')[0] ?? e.message, line: lines.linePos(e.pos[0]).line })));
  const parsed = ScenarioSchema.parse(doc.toJS());
  if (!parsed.ok) throw new ScenarioError(file, parsed.issues.map((i) => ({ ...i, ...lineOf(doc, lines, i.path) })));
  return parsed.scenario;
}

/** The line of the YAML node at `path` (`timeline[2].kill`), or of its nearest ancestor that exists. */
function lineOf(doc: Document, lines: LineCounter, path: string): { line?: number } {
  const parts = path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  for (let n = parts.length; n >= 0; n--) {
    const node = doc.getIn(parts.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return { line: lines.linePos(node.range[0]).line };
  }
  return {};
}
