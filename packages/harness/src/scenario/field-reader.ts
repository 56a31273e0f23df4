import { parseBytes, parseDuration } from '@corral/protocol';

/** One problem in a scenario file: where (a path like `timeline[2].node`) and what is wrong. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * Reads an untyped value (parsed YAML or JSON) field by field, collecting every problem instead of
 * stopping at the first: someone fixing a scenario wants the whole list in one go. Each reader
 * knows its path, so messages say exactly which field is wrong. A failed read returns undefined
 * and the caller carries on with the next field.
 */
export class FieldReader {
  constructor(readonly value: unknown, readonly path: string, private readonly issues: SchemaIssue[]) {}

  static root(value: unknown, issues: SchemaIssue[]): FieldReader {
    return new FieldReader(value, '', issues);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  fail(message: string): undefined {
    this.issues.push({ path: this.path || '(top level)', message });
    return undefined;
  }

  /** Typed readers return undefined for a failed read, so this does too. */
  private missing(): undefined {
    return this.fail('is required');
  }

  /** A child field; checks the value is a mapping first. */
  field(name: string): FieldReader {
    const obj = this.isObject() ? (this.value as Record<string, unknown>) : {};
    return new FieldReader(obj[name], this.path ? `${this.path}.${name}` : name, this.issues);
  }

  isObject(): boolean {
    return typeof this.value === 'object' && this.value !== null && !Array.isArray(this.value);
  }

  /** Fails unless the value is a mapping whose keys are all in `allowed` (typos get a suggestion). */
  object(allowed: readonly string[]): boolean {
    if (!this.isObject()) {
      this.fail(`must be a mapping (got ${describe(this.value)})`);
      return false;
    }
    for (const k of Object.keys(this.value as object)) {
      if (allowed.includes(k)) continue;
      const near = closest(k, allowed);
      this.issues.push({
        path: this.path ? `${this.path}.${k}` : k,
        message: `unknown field${near ? ` (did you mean "${near}"?)` : ''}; known: ${allowed.join(', ')}`,
      });
    }
    return true;
  }

  items(): FieldReader[] {
    if (this.value === undefined) {
      this.fail('is required');
      return [];
    }
    if (!Array.isArray(this.value)) {
      this.fail(`must be a list (got ${describe(this.value)})`);
      return [];
    }
    return this.value.map((v, i) => new FieldReader(v, `${this.path}[${i}]`, this.issues));
  }

  string(opts: { pattern?: RegExp; hint?: string } = {}): string | undefined {
    if (this.value === undefined) return this.missing();
    if (typeof this.value !== 'string' || this.value.length === 0) return this.fail(`must be a non-empty string (got ${describe(this.value)})`);
    if (opts.pattern && !opts.pattern.test(this.value)) return this.fail(`${JSON.stringify(this.value)} ${opts.hint ?? `does not match ${opts.pattern}`}`);
    return this.value;
  }

  oneOf<T extends string>(choices: readonly T[]): T | undefined {
    if (this.value === undefined) return this.missing();
    if (typeof this.value !== 'string' || !(choices as readonly string[]).includes(this.value))
      return this.fail(`must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')} (got ${describe(this.value)})`);
    return this.value as T;
  }

  number(opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    if (this.value === undefined) return this.missing();
    const v = this.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(`must be a number (got ${describe(v)})`);
    if (opts.integer && !Number.isInteger(v)) return this.fail(`must be a whole number (got ${v})`);
    if (opts.min !== undefined && v < opts.min) return this.fail(`must be at least ${opts.min} (got ${v})`);
    if (opts.max !== undefined && v > opts.max) return this.fail(`must be at most ${opts.max} (got ${v})`);
    return v;
  }

  boolean(): boolean | undefined {
    if (this.value === undefined) return this.missing();
    if (typeof this.value !== 'boolean') return this.fail(`must be true or false (got ${describe(this.value)})`);
    return this.value;
  }

  /** "250ms", "3s", "1m" or a number of ms. */
  duration(opts: { min?: number; max?: number } = {}): number | undefined {
    if (this.value === undefined) return this.missing();
    let ms: number;
    try {
      if (typeof this.value !== 'string' && typeof this.value !== 'number') throw new Error('not a duration');
      ms = parseDuration(this.value);
    } catch {
      return this.fail(`must be a duration such as 500ms, 3s or 1m (got ${describe(this.value)})`);
    }
    if (opts.min !== undefined && ms < opts.min) return this.fail(`must be at least ${opts.min} ms (got ${ms} ms)`);
    if (opts.max !== undefined && ms > opts.max) return this.fail(`must be at most ${opts.max} ms (got ${ms} ms)`);
    return ms;
  }

  /** "64mb", "512b" or a number of bytes. */
  bytes(opts: { min?: number; max?: number } = {}): number | undefined {
    if (this.value === undefined) return this.missing();
    let n: number;
    try {
      if (typeof this.value !== 'string' && typeof this.value !== 'number') throw new Error('not a size');
      n = parseBytes(this.value);
    } catch {
      return this.fail(`must be a size such as 512b, 4kb or 64mb (got ${describe(this.value)})`);
    }
    if (opts.min !== undefined && n < opts.min) return this.fail(`must be at least ${opts.min} bytes (got ${n})`);
    if (opts.max !== undefined && n > opts.max) return this.fail(`must be at most ${opts.max} bytes (got ${n})`);
    return n;
  }

  /** The field's value read by `read`, or `fallback` when the field is absent. */
  or<T>(fallback: T, read: (r: FieldReader) => T | undefined): T {
    if (!this.present) return fallback;
    return read(this) ?? fallback;
  }
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

/** The allowed word nearest to `word` by edit distance, when it is close enough to be a typo. */
function closest(word: string, words: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const w of words) {
    const d = editDistance(word.toLowerCase(), w.toLowerCase());
    if (d < bestD) { bestD = d; best = w; }
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_x, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
