import { ErrorCodes } from './errors';
import { allOps, type ArgSpec } from './ops';
import { PushKind } from './frame';

/** Renders the op, push and error tables of docs/protocol.md from the code, so the spec cannot drift. */
function argText(a: ArgSpec): string {
  const base = `${a.name}${a.optional ? '?' : ''}: ${a.type}`;
  if (!a.fields) return base;
  return `${base} { ${Object.entries(a.fields).map(([k, f]) => `${k}: ${f.type}`).join(', ')} }`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function renderOpTable(): string {
  const rows = allOps().map((op) =>
    `| ${op.code} | \`${op.name}\` | ${cell(op.args.map(argText).join(', ') || '–')} | ${cell(op.reply)} | ${cell(op.doc)}${op.admin ? ' (admin)' : ''} |`);
  return ['| code | op | arguments | reply | what it does |', '|---:|---|---|---|---|', ...rows].join('\n');
}

export function renderErrorTable(): string {
  const rows = Object.entries(ErrorCodes).map(([code, doc]) => `| \`${code}\` | ${cell(doc)} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}

export function renderPushTable(): string {
  const rows = Object.entries(PushKind).map(([name, code]) => `| ${code} | ${name} |`);
  return ['| push | name |', '|---:|---|', ...rows].join('\n');
}

/** Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers. */
export function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers for ${name} not found`);
  return `${doc.slice(0, i + begin.length)}\n${body}\n${doc.slice(j)}`;
}

export function renderProtocolDoc(doc: string): string {
  return replaceSection(replaceSection(replaceSection(doc, 'ops', renderOpTable()), 'errors', renderErrorTable()), 'pushes', renderPushTable());
}
