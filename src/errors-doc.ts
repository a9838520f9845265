import { ERRORS } from './errors.js';

const INTRO = `# Error codes

<!-- Generated from src/errors.ts by \`npm run errors-doc\`; a test fails when it is stale. -->

Every error a client sees has the shape \`{"error":{"code":"…","message":"…","path":"…"}}\`
(\`path\` only for validation errors). Codes are stable, each with one HTTP status; messages may
improve. A client never sees a stack trace or an internal object. Bad input changes nothing: a
request answered with an error stores none of its events.
`;

const OUTRO = `
Configuration errors (\`balise config check\`, \`balise serve\`) are listed one per line as
\`path: what to do\`, and the command exits with status 2. Other commands print \`error: …\` and exit
with 2 for invalid usage, 1 for a runtime failure.

Expected refusals (429, 503 \`overloaded\`, \`outbox_full\` and \`storage_unavailable\`) are counted in \`/metrics\` and
\`healthz\`, never logged one line per request; their cause is logged where it arises, at most one
line per kind every 10 seconds (\`… (N more like it held back)\`). A request the gateway did not read
whole within \`server.limits.requestTimeoutMs\` is answered \`408\` by Node.js and its connection
closed ([limits](limits.md)).

## Errors inside the gateway

\`BaliseError\` (above) is the only error a client is ever answered with. The code has a few other
error types, each for a failure that never reaches a client as such, because it is reported
somewhere else or turned into one of the codes above where it crosses to a client:

| error           | raised by                                            | becomes                                                                                   |
| --------------- | ---------------------------------------------------- | ----------------------------------------------------------------------------------------- |
| \`ConfigError\`   | reading the configuration (\`src/config/load.ts\`)    | a \`path: what to do\` list and exit 2; \`invalid_config\` when a settings change causes it |
| \`UsageError\`    | command-line parsing (\`src/cli/args.ts\`)            | \`error: …\` naming the flag, exit 2                                                        |
| \`ImportError\`, \`FormatError\`, \`LogFormatError\` | \`balise import\` options and log formats | \`error: …\` saying what to fix, exit 2, before any line is read                 |
| \`ToolError\`     | loading or starting a tool                           | the gateway does not start (or a settings change is refused), naming the tool              |
| \`PermissionError\`, \`HookTimeout\` | a component's call its manifest does not permit; a listener past its time | counted per tool (\`/metrics\`), the other tools go on; \`tool_timeout\` for a route |
| \`UnreadableFile\`, \`QueryTimeout\` | the store: a spool file it cannot read; a query past its time | the segment set aside (never dropped); \`query_timeout\`                          |
| \`ApiError\`      | the dashboard's own fetch wrapper (browser)          | the code and message above, shown to the user                                             |
`;

/** docs/errors.md: the table of every code (src/errors.ts ERRORS), by status, with its meaning and what to do. */
export function errorsMarkdown(): string {
  const rows = Object.entries(ERRORS)
    .sort(([a, x], [b, y]) => x.status - y.status || (a < b ? -1 : 1))
    .map(([code, info]) => `| ${info.status} | \`${code}\` | ${info.meaning} | ${info.whatToDo} |`);
  return `${INTRO}\n| status | code | meaning | what to do |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n${OUTRO}`;
}
