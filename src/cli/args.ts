// The command line: global connection flags (or VC_* environment variables), the command and
// its own options, read with Node's util.parseArgs (no dependency needed for this).
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileSessionStore, SessionStoreError, type TlsOptions } from '../index.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Connection {
  url: string;
  user: string | undefined;
  password: string | undefined;
  thumbprint: string | undefined;
  ca: string | undefined;
  /** As typed: --insecure is '1'; checked by checkConnection() so that --help still works with a bad one. */
  insecure: string | undefined;
  /** The wire: soap, json (VI/JSON, vCenter 8.0U1+) or auto. */
  protocol: 'soap' | 'json' | 'auto';
  /** The flag or environment variable each setting came from: what a usage error names. */
  from: Record<'url' | 'thumbprint' | 'ca' | 'insecure', string>;
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
  /** metrics: until this long ago (a duration, as --since). */
  until: string | undefined;
  /** metrics: 'realtime' or a historical interval in seconds. */
  interval: 'realtime' | 300 | 1800 | 7200 | 86400 | undefined;
  /** metrics: '' the aggregate, '*' every instance, or one instance (vmnic0). */
  instance: string | undefined;
  types: string[];
  /** watch: stop after this many updates. */
  count: number | undefined;
  /** import.ova, export.ovf: the VM's (or the package's) name. */
  name: string | undefined;
  /** Where sessions are kept between commands (govc-style); undefined with --no-session. */
  sessionDir: string | undefined;
  /** The flag or variable that set sessionDir; undefined for the default. */
  sessionDirFrom: string | undefined;
  connection: Connection | undefined;
}

/** parseArgs declarations of flags that are all of one type and have nothing else. */
function flags<const T extends 'string' | 'boolean', const N extends string>(type: T, names: readonly N[]): Record<N, { type: T }> {
  return Object.fromEntries(names.map((name) => [name, { type }])) as Record<N, { type: T }>;
}

const OPTIONS = {
  ...flags('string', ['url', 'password', 'thumbprint', 'ca', 'since', 'until', 'interval', 'instance', 'protocol', 'count', 'session-dir', 'name']),
  ...flags('boolean', ['insecure', 'json', 'debug', 'wait', 'no-session']),
  user: { type: 'string', short: 'u' },
  help: { type: 'boolean', short: 'h' },
  type: { type: 'string', multiple: true },
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
  // The flag when given, else the variable: the one the user has to correct.
  const from = (flag: string, variable: string) => (values[flag as keyof typeof values] !== undefined ? `--${flag}` : variable);
  const sessionDirFrom = values['no-session'] ? undefined : values['session-dir'] !== undefined ? '--session-dir' : env.VC_SESSION_DIR !== undefined ? 'VC_SESSION_DIR' : undefined;
  return {
    command: positionals[0],
    positionals: positionals.slice(1),
    json: values.json ?? false,
    debug: values.debug ?? false,
    help: values.help ?? false,
    wait: values.wait ?? false,
    since: values.since,
    until: values.until,
    interval: values.interval === undefined ? undefined : metricInterval(values.interval),
    instance: values.instance,
    types: values.type ?? [],
    count: values.count === undefined ? undefined : positiveInteger(values.count, '--count'),
    name: values.name,
    sessionDirFrom,
    sessionDir: values['no-session'] ? undefined : values['session-dir'] ?? env.VC_SESSION_DIR ?? join(homedir(), '.cache', 'vim25-soap', 'sessions'),
    connection: url === undefined || url === '' ? undefined : {
      url,
      user: values.user ?? env.VC_USER,
      // A password on the command line is visible to other users (ps): the environment is preferred.
      password: values.password ?? env.VC_PASSWORD,
      thumbprint: values.thumbprint ?? env.VC_THUMBPRINT,
      ca: values.ca ?? env.VC_CA,
      insecure: values.insecure ? '1' : env.VC_INSECURE,
      protocol: protocolOf(values.protocol ?? env.VC_PROTOCOL, values.protocol !== undefined ? '--protocol' : 'VC_PROTOCOL'),
      from: { url: from('url', 'VC_URL'), thumbprint: from('thumbprint', 'VC_THUMBPRINT'), ca: from('ca', 'VC_CA'), insecure: from('insecure', 'VC_INSECURE') },
    },
  };
}

function protocolOf(text: string | undefined, from: string): Connection['protocol'] {
  if (text === undefined || text === '') return 'soap';
  if (text === 'soap' || text === 'json' || text === 'auto') return text;
  throw new UsageError(`${from} takes soap, json or auto, not ${JSON.stringify(text)}`);
}

function metricInterval(text: string): NonNullable<Parsed['interval']> {
  if (text === 'realtime') return text;
  const n = Number(text);
  if (n === 300 || n === 1800 || n === 7200 || n === 86400) return n;
  throw new UsageError(`--interval takes realtime, 300, 1800, 7200 or 86400, not ${JSON.stringify(text)}`);
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

/** Node's codes for what the user can fix about a path, in words (a raw `ENOENT:` means nothing to most). */
const PATH_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'a directory, not a file',
  EEXIST: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'on a read-only file system',
};

function pathProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return PATH_PROBLEMS[code] ?? 'cannot be used';
}

/** A URL as it may be shown: whatever stands before an @ may be a password. */
function shown(url: string): string {
  return JSON.stringify(url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/i, '$1…@'));
}

/**
 * The connection's settings, checked before anything is sent, and the TLS options they give: a
 * mistyped one is a UsageError naming the flag or variable to correct (the library's own errors
 * name its options, and some quote the URL as given, password and all).
 */
export function checkConnection(c: Connection): TlsOptions {
  let u: URL;
  try {
    u = new URL(c.url);
  } catch {
    throw new UsageError(`${c.from.url} is not a URL: ${shown(c.url)} (expected https://vcenter/sdk)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError(`${c.from.url}: expected an https:// URL, not ${shown(c.url)}`);
  if (u.username || u.password) throw new UsageError(`${c.from.url}: put the user in VC_USER and the password in VC_PASSWORD (or --user, --password), not in the URL`);
  if (c.thumbprint !== undefined && c.thumbprint !== '') {
    const hex = c.thumbprint.replace(/[:\s-]/g, '');
    if (!/^[0-9a-f]+$/i.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
      throw new UsageError(`${c.from.thumbprint}: expected a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint, e.g. AB:CD:…, not ${JSON.stringify(c.thumbprint)}`);
    }
  }
  const insecure = c.insecure === undefined || /^(0|false|)$/i.test(c.insecure) ? false : /^(1|true)$/i.test(c.insecure) ? true : undefined;
  if (insecure === undefined) throw new UsageError(`${c.from.insecure} takes 1 or 0, not ${JSON.stringify(c.insecure)}`);
  let tls: TlsOptions = {};
  if (c.ca) {
    let ca: Buffer;
    try {
      ca = readFileSync(c.ca);
    } catch (err) {
      throw new UsageError(`${c.from.ca}: cannot read ${c.ca}: ${pathProblem(err)}`);
    }
    // Node takes a file with no certificate in it and then trusts nothing: an untrusted
    // certificate error that hides the mistake (a key, a DER file, the wrong file).
    if (!/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/.test(ca.toString('latin1'))) throw new UsageError(`${c.from.ca}: ${c.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    tls = { ca };
  } else if (c.thumbprint) tls = { thumbprint: c.thumbprint };
  else if (insecure) tls = { insecure: true };
  return tls;
}

/**
 * A session directory the user named must be usable: the store would only warn and log in
 * every time. The default one may not be (a read-only home): that stays a warning. The store
 * makes it (0700, owned by this user, a bounded mkdir -p), then it must be writable.
 */
export async function checkSessionDir(args: Parsed): Promise<void> {
  if (args.sessionDir === undefined || args.sessionDirFrom === undefined) return;
  try {
    await new FileSessionStore({ dir: args.sessionDir }).get('check');
    accessSync(args.sessionDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    // The store's own words where it refused the directory itself (not ours, not a directory).
    const problem = err instanceof SessionStoreError && err.cause === undefined ? err.message.replace(/^session store: /, '') : pathProblem(err instanceof SessionStoreError ? err.cause : err);
    throw new UsageError(`${args.sessionDirFrom}: cannot keep sessions in ${args.sessionDir}: ${problem}`);
  }
}
