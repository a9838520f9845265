/**
 * A ClickHouse server for tests and benchmarks: ClickHouse 26.7 itself (chdb, the engine as a
 * library) behind the part of ClickHouse's HTTP interface that `@clickhouse/client` speaks —
 * queries in the body or the `query` parameter, `param_*` bound server-side, settings as URL
 * parameters, `database`, `session_id` (temporary tables live in the session), `INSERT … FORMAT`
 * with the data in the body, `input()` in `INSERT … SELECT`, `X-ClickHouse-Summary`, and errors as
 * ClickHouse writes them (`Code: N. DB::Exception: …`, `X-ClickHouse-Exception-Code`).
 *
 * Debian's clickhouse-server is 18.16 (2018) and no newer server installs here without Docker, so
 * the SQL, the bound parameters, the engines, deduplication and materialized views are the real
 * engine's; only the HTTP framing is ours. Run: `node --import tsx test/clickhouse/server.ts DATA_DIR [PORT]`;
 * prints `listening http://127.0.0.1:PORT` once ready.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadChdb, type ChdbSession } from './engine.js';

const dataDir = process.argv[2] ?? '';
if (!dataDir) {
  console.error('usage: server.ts DATA_DIR [PORT]');
  process.exit(2);
}
const port = Number(process.argv[3] ?? 0);
const chdb = loadChdb();

// URL parameters that are not settings.
const NOT_SETTINGS = new Set([
  'query',
  'query_id',
  'database',
  'session_id',
  'session_timeout',
  'session_check',
  'default_format',
  'user',
  'password',
  'role',
  'quota_key',
  'compress',
  'decompress',
]);
// Settings of the HTTP layer itself, which the engine behind it has no use for.
const HTTP_ONLY = new Set([
  'enable_http_compression',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_wait_end_of_query',
  'cancel_http_readonly_queries_on_client_close',
]);

/** One chdb connection per database and per session, each used by one statement at a time. */
class Connections {
  private readonly byKey = new Map<string, { session: ChdbSession; queue: Promise<unknown> }>();

  run<T>(database: string, sessionId: string | null, work: (session: ChdbSession) => Promise<T>): Promise<T> {
    const key = `${database}\u0000${sessionId ?? ''}`;
    let entry = this.byKey.get(key);
    if (!entry) {
      const session = new chdb.Session(dataDir);
      if (database !== 'default') session.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
      session.query(`USE \`${database}\``);
      entry = { session, queue: Promise.resolve() };
      this.byKey.set(key, entry);
    }
    const result = entry.queue.then(() => work(entry.session));
    entry.queue = result.catch(() => undefined);
    return result;
  }
}

const connections = new Connections();

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Reverses the escaping `param_*` values arrive in (TSV escapes; `\N` is NULL). */
function unescapeParam(value: string): string | null {
  if (value === '\\N') return null;
  return value.replace(/\\(.)/gs, (_, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === '0' ? '\0' : c,
  );
}

/** The declared type of each `{name:Type}` placeholder in a statement. */
function placeholderTypes(sql: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+)\}/g))
    types.set(match[1]!, match[2]!.trim());
  return types;
}

function settingsClause(settings: [string, string][]): string {
  if (settings.length === 0) return '';
  const quoted = settings.map(
    ([k, v]) => `${k} = ${/^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/[\\']/g, '\\$&')}'`}`,
  );
  return ` SETTINGS ${quoted.join(', ')}`;
}

/** Splits a trailing `FORMAT Name` off a statement. */
function splitFormat(sql: string): { body: string; format: string | null } {
  const match = /\s+FORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql);
  return match
    ? { body: sql.slice(0, match.index), format: match[1]! }
    : { body: sql.trim().replace(/;\s*$/, ''), format: null };
}

interface Outcome {
  body: string;
  writtenRows: number;
  readRows: number;
}

async function execute(url: URL, data: Buffer): Promise<Outcome> {
  const params = url.searchParams;
  const database = params.get('database') ?? 'default';
  const sessionId = params.get('session_id');
  const settings: [string, string][] = [];
  const bound: Record<string, string | null> = {};
  for (const [key, value] of params) {
    if (key.startsWith('param_')) bound[key.slice(6)] = value;
    else if (!NOT_SETTINGS.has(key) && !HTTP_ONLY.has(key)) settings.push([key, value]);
  }
  const urlQuery = params.get('query');
  const sql = urlQuery ?? data.toString('utf8');
  const payload = urlQuery !== null ? data : null;
  const types = placeholderTypes(sql);
  for (const [name, value] of Object.entries(bound)) {
    const type = types.get(name) ?? 'String';
    bound[name] = /^(Nullable\()?(String|FixedString|LowCardinality\(String)/.test(type)
      ? unescapeParam(value!)
      : value === '\\N'
        ? null
        : value;
  }
  const timeout = settings.find(([k]) => k === 'max_execution_time');
  const timeoutMs = timeout && Number(timeout[1]) > 0 ? Number(timeout[1]) * 1000 : undefined;

  return connections.run(database, sessionId, async (session) => {
    const insert = /^\s*INSERT\s+INTO\s+([^\s(]+)\s*(?:\(([^)]*)\))?\s+FORMAT\s+([A-Za-z0-9_]+)\s*$/is.exec(
      sql,
    );
    if (insert && payload) {
      const summary = await session.insert({
        table: insert[1]!,
        values: payload,
        format: insert[3]! as 'JSONEachRow',
        ...(insert[2] ? { columns: insert[2].split(',').map((c) => c.trim()) } : {}),
        settings: Object.fromEntries(settings),
      });
      return { body: '', writtenRows: summary.rowsWritten, readRows: 0 };
    }
    let { body, format } = splitFormat(sql);
    if (payload && /\binput\s*\(/i.test(body)) {
      // INSERT … SELECT … FROM input('structure') FORMAT X: the body is the input's data.
      if (!format)
        throw Object.assign(new Error('Code: 62. DB::Exception: input() needs a FORMAT. (SYNTAX_ERROR)'), {
          clickhouseCode: 62,
        });
      body = body.replace(
        /\binput\s*\(\s*('(?:[^'\\]|\\.)*')\s*\)/i,
        `format(${format}, $1, {__input_data:String})`,
      );
      bound.__input_data = payload.toString('utf8');
      format = null;
    }
    // Settings ride on the statement as a SETTINGS clause where ClickHouse's grammar has one
    // (a SELECT, or the SELECT of an INSERT); a DDL statement or INSERT … VALUES takes none here.
    const selects =
      /^\s*(SELECT|WITH)\b/i.test(body) ||
      /^\s*INSERT\s+INTO\s+\S+(\s*\([^)]*\))?\s+(SELECT|WITH)\b/is.test(body);
    const statement = selects ? body + settingsClause(settings) : body;
    const result = await session.queryBindAsync(statement, bound, {
      format: format ?? 'TabSeparated',
      ...(timeoutMs ? { timeout: timeoutMs } : {}),
    });
    const written = /^\s*INSERT\b/i.test(body) ? result.rowsRead : 0;
    return { body: result.text(), writtenRows: written, readRows: result.rowsRead };
  });
}

function errorOf(error: unknown): { code: number; text: string } {
  const e = error as { clickhouseCode?: number; message?: string; name?: string };
  const message = String(e?.message ?? error);
  if (e?.name === 'ChdbTimeoutError' || /timed? ?out/i.test(message))
    return { code: 159, text: `Code: 159. DB::Exception: Timeout exceeded: ${message}. (TIMEOUT_EXCEEDED)` };
  const code = e?.clickhouseCode ?? Number(/Code: (\d+)/.exec(message)?.[1] ?? 1000);
  return {
    code,
    text: /Code: \d+/.test(message)
      ? message
      : `Code: ${code}. DB::Exception: ${message}. (UNKNOWN_EXCEPTION)`,
  };
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/ping') {
    response.end('Ok.\n');
    return;
  }
  const data = await readBody(request);
  const queryId = url.searchParams.get('query_id') ?? '';
  try {
    const outcome = await execute(url, data);
    response.writeHead(200, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(outcome.readRows),
        read_bytes: '0',
        written_rows: String(outcome.writtenRows),
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: String(outcome.writtenRows),
        result_bytes: '0',
        elapsed_ns: '0',
      }),
    });
    response.end(outcome.body);
  } catch (error) {
    const { code, text } = errorOf(error);
    response.writeHead(code === 159 ? 500 : code === 81 || code === 60 ? 404 : 500, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Exception-Code': String(code),
    });
    response.end(`${text.replace(/\s*\(version [^)]*\)\s*$/, '')} (version 26.7.2.1)\n`);
  }
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    response.statusCode = 500;
    response.end(String(error));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address() as AddressInfo;
  console.log(`listening http://127.0.0.1:${bound}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
