// vim25-soap: the command line, on the library's public API. The server comes from VC_URL,
// VC_USER, VC_PASSWORD and VC_THUMBPRINT or VC_CA (or the matching flags); tables on a
// terminal, --json for scripts; exit codes a shell can branch on.
import { FileSessionStore, isVimFault, TransportError, ValidationError, VimClient, RestError } from '../index.ts';
import { checkConnection, checkSessionDir, parse, UsageError } from './args.ts';
import { toJson } from './output.ts';
import * as commands from './commands.ts';
import { NotFoundError, type Context } from './commands.ts';

/** Exit codes: what a script branches on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, auth: 3, notFound: 4, connection: 5 } as const;

const HELP: Record<string, string> = {
  '': `Usage: vim25-soap [options] <command> [arguments]

Commands:
  about                              the server's product, version and API (no login)
  ls [PATH]                          the children of an inventory path (default /)
  find TYPE PATTERN                  objects of TYPE: /DC0/vm/*, a name, globs (* ? [a-z]), ... for any depth, or an id
  collect OBJECT [PATHS...]          properties of one object (all of them without PATHS)
  call METHOD OBJECT [JSON]          any vim25 method; --wait waits for a task it returns
  watch TYPE PATHS...                changes of those properties of every TYPE, until Ctrl-C (or --count N)
  events [OBJECT] [--since 10m]      recent events (--type VmPoweredOffEvent, repeatable)
  metrics OBJECT... COUNTER...       performance counters by name (cpu.usage.average), one line per sample; --since 5m
  session save|show|logout           the session kept between commands (one Login for many commands)
  tags ls [CATEGORY]                 vSphere tags (vAPI), by category
  tags attach|detach TAG OBJECT...   attach or detach a tag (id or category/name) to or from objects
  library ls [LIBRARY]               content libraries, or the items of one (id or name)
  library deploy ITEM NAME pool=P    deploy an OVF item (id or LIBRARY/ITEM) as a VM [folder= host= datastore=]
  rest METHOD PATH [JSON]            any vAPI request: rest GET /api/vcenter/vm (JSON out)
  datastore ls|upload|download|mkdir|rm   datastore files, streamed: datastore upload x.iso '[ds1] iso/x.iso'
  guest upload|download VM ...       files in a VM's guest (VC_GUEST_USER, VC_GUEST_PASSWORD)
  import.ova FILE [--name NAME]      deploy an OVA (or an OVF with its files, or its URL), streamed
  export.ovf VM DIR                  export a powered-off VM: descriptor, disks and a manifest

OBJECT is Type:value (VirtualMachine:vm-42), an inventory path (/DC0/vm/web1) or an id (vm-42).

Connection (flags or environment):
  --url URL          VC_URL          https://vcenter/sdk
  --user NAME        VC_USER
  --password PW      VC_PASSWORD     (prefer the environment: flags show in ps)
  --thumbprint T     VC_THUMBPRINT   pin a self-signed server's SHA-1 or SHA-256 thumbprint
  --ca FILE          VC_CA           or verify against this CA (PEM)
  --insecure         VC_INSECURE=1   skip verification (not recommended)
  --protocol P       VC_PROTOCOL     soap (default), json (VI/JSON, vCenter 8.0U1+) or auto

Sessions: kept between commands in VC_SESSION_DIR or --session-dir (default
~/.cache/vim25-soap/sessions), so commands after the first do not log in again; --no-session
logs in and out for one command only; vim25-soap session logout ends the kept session.

Output: tables on a terminal, tab-separated in a pipe, --json for scripts.
--debug prints each SOAP request as sent and each answer to stderr, secrets redacted.
Exit codes: 0 ok, 1 the server refused (a vSphere fault), 2 usage, 3 login refused,
4 not found, 5 connection or TLS failure.
Run vim25-soap <command> --help for a command's own help.`,
  about: 'Usage: vim25-soap about [--json]\n\nThe server\'s about information; needs no login.',
  ls: 'Usage: vim25-soap ls [PATH] [--json]\n\nThe children of an inventory path: NAME, TYPE, ID. PATH defaults to /.\nExample: vim25-soap ls /DC0/vm',
  find: 'Usage: vim25-soap find TYPE PATTERN [--json]\n\nObjects of a managed type by inventory path (absolute, or relative to the datacenters\' folders), with * ? [abc] [a-z] [!a] per level and ... for any depth, by name anywhere, or by id.\nExamples: vim25-soap find VirtualMachine \'/DC0/vm/*\'   vim25-soap find HostSystem \'.../esx-0?\'',
  collect: 'Usage: vim25-soap collect OBJECT [PATHS...] [--json]\n\nProperties of one object; every property without PATHS.\nExample: vim25-soap collect vm-42 runtime.powerState config.hardware.numCPU',
  call: 'Usage: vim25-soap call METHOD OBJECT [JSON] [--wait] [--json]\n\nCalls any vim25 method on OBJECT with JSON arguments; with --wait, waits for the task it returns (a progress bar on a terminal) and prints the task\'s result.\nExample: vim25-soap call PowerOffVM_Task VirtualMachine:vm-42 --wait',
  watch: 'Usage: vim25-soap watch TYPE PATHS... [--count N] [--json]\n\nEvery change of those properties on every TYPE: one line per update (enter, modify, leave), until Ctrl-C or N updates. Survives a re-login.\nExample: vim25-soap watch VirtualMachine runtime.powerState',
  session: 'Usage: vim25-soap session save|show|logout [--json]\n\nsave logs in (or adopts the kept session) and keeps it; show prints the kept session\'s user and times; logout ends it on the server and removes it from the session directory.',
  metrics: 'Usage: vim25-soap metrics OBJECT... COUNTER... [--since 5m] [--until 1m] [--interval realtime|300|1800|7200|86400] [--instance NAME|*] [--json]\n\nSamples of performance counters named group.name.rollup (cpu.usage.average, mem.usage.average, net.usage.average, disk.usage.average, …): TIME, OBJECT, COUNTER, INSTANCE (empty: the aggregate), VALUE, UNIT, one line per sample, oldest first. Real-time (20 s) where the object has it (hosts, VMs), else 5-minute; the latest sample of each without --since (30s, 10m, 2h, 1d). Percentages are in percent. A counter the server does not have exits 2, naming the nearest it has. The first argument with two dots after the first object starts the counters: give an object named like an FQDN as a path or Type:value.\nExample: vim25-soap metrics VirtualMachine:vm-42 cpu.usage.average mem.usage.average --since 5m',
  tags: 'Usage: vim25-soap tags ls [CATEGORY] | attach TAG OBJECT... | detach TAG OBJECT... [--json]\n\nvSphere tags through the vAPI endpoints (/api/cis/tagging): ls lists CATEGORY, TAG, ID, DESCRIPTION; attach and detach take a tag by id or as category/name and objects as Type:value, inventory paths or ids.\nExample: vim25-soap tags attach zone/us-east-1a /DC0/vm/web1',
  library: 'Usage: vim25-soap library ls [LIBRARY] | deploy ITEM NAME pool=POOL [folder=FOLDER] [host=HOST] [datastore=DATASTORE] [--json]\n\nContent libraries (NAME, TYPE, ID), or the items of one library named by id or name (NAME, TYPE, SIZE, ID). deploy makes VM NAME from an OVF template item (its id, or LIBRARY/ITEM) through the vAPI OVF deploy operation and prints VM, NAME; the placements are Type:value, inventory paths or ids. A deploy is never sent twice: a connection lost after it was sent exits 1 with EOUTCOMEUNKNOWN.\nExample: vim25-soap library deploy templates/photon web-1 pool=/DC0/host/DC0_C0/Resources folder=/DC0/vm',
  rest: 'Usage: vim25-soap rest METHOD PATH [JSON]\n\nAny vAPI request under /api/ (or /rest/ on servers before 7.0 U2, its { value } unwrapped) on the same session as the vim25 calls; the answer is printed as JSON. A query goes in PATH (?action=find).\nExample: vim25-soap rest POST \'/api/content/library?action=find\' \'{"name":"templates"}\'',
  datastore: 'Usage: vim25-soap datastore ls [\'[DS] DIR\'] | upload LOCAL \'[DS] PATH\' | download \'[DS] PATH\' LOCAL | mkdir \'[DS] DIR\' | rm \'[DS] PATH\' [datacenter=DC] [--json]\n\nDatastore files through the server\'s /folder URLs, streamed (any size, little memory), on the session: ls without a directory lists the datastores; LOCAL - is standard input or output; a progress bar on a terminal. datacenter= when datastores of several datacenters share the name.\nExample: vim25-soap datastore upload ubuntu.iso \'[datastore1] iso/ubuntu.iso\'',
  guest: 'Usage: vim25-soap guest upload VM LOCAL GUEST_PATH [overwrite=true] | download VM GUEST_PATH LOCAL\n\nFiles in a VM\'s guest through VMware Tools (GuestFileManager), streamed; the guest\'s credentials come from VC_GUEST_USER and VC_GUEST_PASSWORD. LOCAL - is standard input (upload needs a file for its length) or output.\nExample: VC_GUEST_USER=root VC_GUEST_PASSWORD=… vim25-soap guest download /DC0/vm/web1 /var/log/syslog syslog.txt',
  'import.ova': 'Usage: vim25-soap import.ova FILE [--name NAME] [pool=POOL] [folder=FOLDER] [host=HOST] [datastore=DATASTORE] [net:OVF_NETWORK=NETWORK]... [prop:KEY=VALUE]... [disk=thin|thick|eagerZeroedThick] [power=on] [--json]\n\nDeploys FILE (an .ova, an .ovf with its files beside it, or an http(s) URL of an .ovf) as VM NAME (default: the descriptor\'s name), streamed through an HttpNfcLease (the OVA is never extracted to disk; its manifest is checked as it streams); prints VM, NAME. Without placements: the first datacenter by name, its VM folder, its first compute resource\'s root pool and that resource\'s first datastore. A progress bar on a terminal.\nExample: vim25-soap import.ova photon.ova --name web-1 pool=/DC0/host/DC0_C0/Resources',
  'export.ovf': 'Usage: vim25-soap export.ovf VM DIR [--name NAME] [--json]\n\nExports a powered-off VM through ExportVm: its OVF descriptor, disks and a SHA256 manifest into DIR (created; existing files are not overwritten). A progress bar on a terminal.\nExample: vim25-soap export.ovf VirtualMachine:vm-42 ./out',
  events: 'Usage: vim25-soap events [OBJECT] [--since 10m] [--type TYPE]... [--json]\n\nEvents of the last --since (30s, 10m, 2h, 1d; default 10m), about OBJECT and below if given.\nExample: vim25-soap events /DC0/vm/web1 --since 1h --type VmPoweredOffEvent',
};

// The vAPI commands are loaded by the commands that use them only: the others do not compile them.
const vapi = (name: 'tags' | 'library' | 'rest') => async (ctx: Context): Promise<void> => (await import('./vapi-commands.ts'))[name](ctx);

// The same for the transfer commands.
const transfer = (name: 'datastore' | 'guest') => async (ctx: Context): Promise<void> => (await import('./transfer-commands.ts'))[name](ctx);
const ovf = (name: 'importOvaCommand' | 'exportOvfCommand') => async (ctx: Context): Promise<void> => (await import('./ovf-commands.ts'))[name](ctx);

const RUN: Record<string, (ctx: Context) => Promise<void>> = {
  about: commands.about, ls: commands.ls, find: commands.find, collect: commands.collect, call: commands.call, watch: commands.watch, events: commands.events, metrics: commands.metrics, session: commands.session,
  tags: vapi('tags'), library: vapi('library'), rest: vapi('rest'),
  datastore: transfer('datastore'), guest: transfer('guest'),
  'import.ova': ovf('importOvaCommand'), 'export.ovf': ovf('exportOvfCommand'),
};

/**
 * A server certificate that failed verification: the library's TransportError carries the TLS
 * code and, as its cause, the TLS error itself (a pin mismatch, ECERTPIN, has no such cause).
 */
function isUntrusted(err: TransportError): boolean {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  return err.code !== 'ECERTPIN' && cause?.code === err.code && (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /CERT|SELF_SIGNED|ISSUER|UNABLE_TO_VERIFY/.test(err.code));
}

/** What the user is told, and the exit code; never a stack trace for what is not a bug. */
function explain(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError || err instanceof ValidationError) return { code: EXIT.usage, message: err.message };
  if (err instanceof NotFoundError) return { code: EXIT.notFound, message: err.message };
  if (isVimFault(err, 'InvalidLogin') || isVimFault(err, 'NotAuthenticated')) return { code: EXIT.auth, message: `login refused: ${err.message}` };
  if (isVimFault(err, 'ManagedObjectNotFound')) return { code: EXIT.notFound, message: err.message };
  if (isVimFault(err)) return { code: EXIT.failed, message: err.message };
  if (err instanceof RestError) {
    if (err.errorType === 'NOT_FOUND') return { code: EXIT.notFound, message: err.message };
    if (err.errorType === 'UNAUTHENTICATED') return { code: EXIT.auth, message: err.message };
    return { code: EXIT.failed, message: err.message };
  }
  if (err instanceof TransportError && isUntrusted(err)) {
    // The library's hint names its options (tls.thumbprint, tls.ca); its thumbprints are kept.
    const cut = err.message.indexOf('. Pass tls.');
    const what = cut === -1 ? err.message : err.message.slice(0, cut);
    return { code: EXIT.connection, message: `${what}. Pass --thumbprint (or VC_THUMBPRINT) to pin that certificate, or --ca (or VC_CA) with the CA that issued it` };
  }
  if (err instanceof TransportError) return { code: EXIT.connection, message: err.message };
  return { code: EXIT.failed, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Promise<number> {
  let client: VimClient | undefined;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const args = parse(argv, env);
    if (args.command === undefined || args.command === 'help' || (args.help && !RUN[args.command])) {
      stdout.write(`${HELP[args.command === 'help' ? (args.positionals[0] ?? '') : ''] ?? HELP['']!}\n`);
      return args.command === undefined && !args.help ? EXIT.usage : EXIT.ok;
    }
    const command = RUN[args.command];
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(args.command)}; try vim25-soap --help`);
    if (args.help) {
      stdout.write(`${HELP[args.command]}\n`);
      return EXIT.ok;
    }
    const c = args.connection;
    if (!c) throw new UsageError('no server: set VC_URL (https://vcenter/sdk) or pass --url');
    const tls = checkConnection(c);
    await checkSessionDir(args);
    const debug = (message: string, data?: Record<string, unknown>): void => void stderr.write(`debug ${message} ${toJson(data ?? {})}\n`);
    const quiet = (): void => undefined;
    client = await VimClient.connect(c.url, {
      tls,
      protocol: c.protocol,
      signal: controller.signal,
      // Like govc, the session is kept between commands (files 0600 in a 0700 directory; the
      // key depends on the password, so another password never reuses it): one Login, not one
      // per command. close() only detaches; `session logout` ends it.
      ...(args.sessionDir !== undefined && { sessionStore: new FileSessionStore({ dir: args.sessionDir }) }),
      ...(args.debug && { debug: true, logger: { debug, info: debug, warn: debug, error: debug } }),
      ...(!args.debug && { logger: { debug: quiet, info: quiet, warn: (m: string) => void stderr.write(`vim25-soap: warning: ${m}\n`), error: quiet } }),
    });
    if (args.command !== 'about') {
      if (!c.user || c.password === undefined) throw new UsageError('no credentials: set VC_USER and VC_PASSWORD (or --user and --password)');
      await client.login({ username: c.user, password: c.password, signal: controller.signal });
    }
    await command({ client, args, out: { json: args.json, isTTY: stdout.isTTY === true, write: (t) => stdout.write(t) }, stderr, signal: controller.signal });
    return EXIT.ok;
  } catch (err) {
    // Ctrl-C ends a watch: that is how it is meant to stop.
    if (controller.signal.aborted) return EXIT.ok;
    const { code, message } = explain(err);
    stderr.write(`vim25-soap: ${message}\n`);
    return code;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await client?.close().catch(() => undefined);
  }
}
