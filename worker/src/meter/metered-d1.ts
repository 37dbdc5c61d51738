import { counters } from './counters';

type Meta = { rows_read?: number; rows_written?: number; size_after?: number } | undefined;

/** verbOf's answers: the code base's statements are a fixed set of strings. */
const verbs = new Map<string, string>();

/** The first keyword and table of a statement: `INSERT runs`, `SELECT workflows`, ... */
export function verbOf(sql: string): string {
  let v = verbs.get(sql);
  if (v === undefined) {
    v = parseVerb(sql);
    if (verbs.size < 10_000) verbs.set(sql, v);
  }
  return v;
}

function parseVerb(sql: string): string {
  const words = sql.trim().replace(/\s+/g, ' ').split(' ');
  const verb = (words[0] ?? '').toUpperCase();
  let table = '';
  if (verb === 'UPDATE') table = words[1] ?? '';
  else {
    const at = words.findIndex((_, i) => i > 0 && /^(into|from)$/i.test(words[i - 1] ?? ''));
    if (at > 0) table = words[at] ?? '';
  }
  return `${verb} ${table.replace(/["`(]/g, '')}`.trim();
}

function count(sql: string, read: number, written: number) {
  counters.d1.statements++;
  counters.d1.rowsRead += read;
  counters.d1.rowsWritten += written;
  const v = verbOf(sql);
  counters.d1ByVerb[v] ??= { statements: 0, rowsRead: 0, rowsWritten: 0 };
  counters.d1ByVerb[v].statements++;
  counters.d1ByVerb[v].rowsRead += read;
  counters.d1ByVerb[v].rowsWritten += written;
}

function countMeta(sql: string, meta: Meta) {
  count(sql, meta?.rows_read ?? 0, meta?.rows_written ?? 0);
  if (typeof meta?.size_after === 'number') counters.d1Size.bytes = meta.size_after;
}

/** The real statement behind a metered one, so that batch() hands D1 what it made. */
const realOf = new WeakMap<object, D1PreparedStatement>();

function meteredStatement(real: D1PreparedStatement, sql: string): D1PreparedStatement {
  const wrapped = {
    bind: (...values: unknown[]) => meteredStatement(real.bind(...values), sql),
    async run() {
      counters.d1.requests++;
      const result = await real.run();
      countMeta(sql, result.meta);
      return result;
    },
    async all() {
      counters.d1.requests++;
      const result = await real.all();
      countMeta(sql, result.meta);
      return result;
    },
    // raw() and first() drop D1's meta, and the binding's transport is private: count
    // the rows returned as rows read (a lower bound; the README says so). No write in
    // this code base goes through them (drizzle writes with run(), reads with raw()).
    async raw(options?: { columnNames?: boolean }) {
      counters.d1.requests++;
      counters.d1.readsWithoutMeta++;
      const rows = options?.columnNames ? await real.raw({ columnNames: true }) : await real.raw();
      count(sql, Math.max(0, rows.length - (options?.columnNames ? 1 : 0)), 0);
      return rows;
    },
    async first(column?: string) {
      counters.d1.requests++;
      counters.d1.readsWithoutMeta++;
      const row = column === undefined ? await real.first() : await real.first(column);
      count(sql, row === null ? 0 : 1, 0);
      return row;
    },
  } as unknown as D1PreparedStatement;
  realOf.set(wrapped, real);
  return wrapped;
}

/**
 * The same database with every statement counted from D1's own `meta` (rows_read,
 * rows_written), which run(), all() and batch() return. Behaviour is unchanged: each
 * call goes to the real binding once, with the same arguments.
 */
export function meteredD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => meteredStatement(target.prepare(sql), sql);
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          counters.d1.requests++;
          const real = statements.map((s) => realOf.get(s) ?? s);
          const results = await target.batch(real);
          results.forEach((r, i) => {
            countMeta((real[i] as unknown as { statement?: string }).statement ?? '', r.meta);
          });
          return results;
        };
      }
      if (prop === 'exec') {
        return async (sql: string) => {
          counters.d1.requests++;
          counters.d1.readsWithoutMeta++;
          const result = await target.exec(sql);
          counters.d1.statements += result.count;
          return result;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
