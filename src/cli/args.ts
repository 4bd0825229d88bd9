// The command line: global connection flags (or VC_* environment variables), the command and
// its own options, read with Node's util.parseArgs (no dependency needed for this).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Connection {
  url: string;
  user: string | undefined;
  password: string | undefined;
  thumbprint: string | undefined;
  ca: string | undefined;
  insecure: boolean;
}

export interface Parsed {
  command: string | undefined;
  positionals: string[];
  json: boolean;
  help: boolean;
  /** Print each SOAP request and answer (secrets redacted) to stderr. */
  debug: boolean;
  wait: boolean;
  since: string | undefined;
  types: string[];
  /** watch: stop after this many updates. */
  count: number | undefined;
  /** Where sessions are kept between commands (govc-style); undefined with --no-session. */
  sessionDir: string | undefined;
  connection: Connection | undefined;
}

const OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string', short: 'u' },
  password: { type: 'string' },
  thumbprint: { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  wait: { type: 'boolean' },
  since: { type: 'string' },
  type: { type: 'string', multiple: true },
  count: { type: 'string' },
  'no-session': { type: 'boolean' },
  'session-dir': { type: 'string' },
} as const;

export function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Parsed {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const url = values.url ?? env.VC_URL;
  return {
    command: positionals[0],
    positionals: positionals.slice(1),
    json: values.json ?? false,
    debug: values.debug ?? false,
    help: values.help ?? false,
    wait: values.wait ?? false,
    since: values.since,
    types: values.type ?? [],
    count: values.count === undefined ? undefined : positiveInteger(values.count, '--count'),
    sessionDir: values['no-session'] ? undefined : values['session-dir'] ?? env.VC_SESSION_DIR ?? join(homedir(), '.cache', 'vim25-soap', 'sessions'),
    connection: url === undefined || url === '' ? undefined : {
      url,
      user: values.user ?? env.VC_USER,
      // A password on the command line is visible to other users (ps): the environment is preferred.
      password: values.password ?? env.VC_PASSWORD,
      thumbprint: values.thumbprint ?? env.VC_THUMBPRINT,
      ca: values.ca ?? env.VC_CA,
      insecure: values.insecure ?? env.VC_INSECURE === '1',
    },
  };
}

/** "10m", "2h", "30s", "1d" -> milliseconds. */
export function duration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new UsageError(`--since takes a duration like 30s, 10m, 2h or 1d, not ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, not ${JSON.stringify(text)}`);
  return n;
}
