// The file transfer commands (datastore, guest), streamed through the client (src/transfer/):
// a progress bar on a terminal's stderr, nothing when it is not one; '-' for standard input or
// output. Guest credentials come from VC_GUEST_USER and VC_GUEST_PASSWORD only, so that the
// password never shows in a process list.
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ManagedObjectReference } from '../index.ts';
import { datastoreOf, type DatastoreTarget } from '../transfer/datastore.ts';
import { TransferError } from '../transfer/errors.ts';
import { guestOf } from '../transfer/guest.ts';
import type { TransferProgress } from '../transfer/source.ts';
import { UsageError } from './args.ts';
import { NotFoundError, resolve, type Context } from './commands.ts';
import { printTable, progressBar } from './output.ts';

const DATASTORE_USAGE = "datastore takes ls '[DS] DIR', upload LOCAL '[DS] PATH', download '[DS] PATH' LOCAL, mkdir '[DS] DIR' or rm '[DS] PATH' (LOCAL '-' is standard input or output; datacenter=DC when datastores of several datacenters share the name)";
const GUEST_USAGE = 'guest takes upload VM LOCAL GUEST_PATH [overwrite=true] or download VM GUEST_PATH LOCAL (LOCAL \'-\' is standard input or output; credentials in VC_GUEST_USER and VC_GUEST_PASSWORD)';

/** The words and the key=value pairs of a command's arguments. */
function split(positionals: readonly string[], keys: readonly string[], usage: string): { words: string[]; pairs: Map<string, string> } {
  const words: string[] = [];
  const pairs = new Map<string, string>();
  for (const p of positionals) {
    const eq = p.indexOf('=');
    const key = eq > 0 ? p.slice(0, eq) : '';
    if (keys.includes(key) && !p.startsWith('[')) {
      if (pairs.has(key)) throw new UsageError(`${usage}; ${key}= given twice`);
      pairs.set(key, p.slice(eq + 1));
    } else words.push(p);
  }
  return { words, pairs };
}

/** TransferErrors as the command line's exit codes: not found (4), a bad path or source (2). */
function translated(err: unknown): unknown {
  if (!(err instanceof TransferError)) return err;
  if (err.reason === 'not-found' || err.reason === 'no-such-datastore' || err.reason === 'no-such-datacenter') return new NotFoundError(err.message);
  if (err.reason === 'bad-path' || err.reason === 'bad-source') return new UsageError(err.message);
  return err;
}

/** A progress bar for a transfer of known length, on a terminal only. */
function bar(ctx: Context, label: string): { onProgress: (p: TransferProgress) => void; done: () => void } {
  let shown: ReturnType<typeof progressBar> | undefined;
  let last = -1;
  return {
    onProgress: (p) => {
      if (p.total === undefined || p.total === 0) return;
      shown ??= progressBar(ctx.stderr, label);
      const percent = Math.floor((p.bytes / p.total) * 100);
      if (percent !== last) shown.update((last = percent));
    },
    done: () => shown?.done(),
  };
}

function source(local: string): string | Readable {
  return local === '-' ? process.stdin : local;
}

async function sink(local: string, body: Readable, signal: AbortSignal): Promise<void> {
  if (local === '-') await pipeline(body, process.stdout, { signal, end: false });
  else await pipeline(body, createWriteStream(local), { signal });
}

export async function datastore(ctx: Context): Promise<void> {
  const [action, ...rest] = ctx.args.positionals;
  const { words, pairs } = split(rest, ['datacenter'], DATASTORE_USAGE);
  const ds = datastoreOf(ctx.client);
  const o = { signal: ctx.signal, datacenter: pairs.get('datacenter') };
  const target = (path: string | undefined): DatastoreTarget => {
    if (path === undefined) throw new UsageError(DATASTORE_USAGE);
    return path;
  };
  try {
    if (action === 'ls' && words.length <= 1) {
      const dir = words[0];
      if (dir === undefined) {
        // The datastores themselves.
        const rows = await ctx.client.retrieve('Datastore', ['name', 'summary.type', 'summary.capacity', 'summary.freeSpace'], { signal: ctx.signal });
        const list = rows.map((r) => [r.name, r['summary.type'], r['summary.capacity'], r['summary.freeSpace']] as const).sort((x, y) => x[0].localeCompare(y[0]));
        printTable(ctx.out, ['NAME', 'TYPE', 'CAPACITY', 'FREE'], list, () => rows.map((r) => ({ name: r.name, type: r['summary.type'], capacity: r['summary.capacity'], free: r['summary.freeSpace'] })));
        return;
      }
      const rows = await ds.list(target(dir), o);
      printTable(ctx.out, ['NAME', 'TYPE', 'SIZE', 'MODIFIED'], rows.map((r) => [r.isDirectory ? `${r.name}/` : r.name, r.type.replace(/FileInfo$/, '') || 'File', r.size, r.modified]), () => rows.map(({ info: _, ...r }) => r));
      return;
    }
    if (action === 'upload' && words.length === 2) {
      const [local, remote] = words as [string, string];
      const progress = bar(ctx, `upload ${remote}`);
      try {
        await ds.upload(target(remote), source(local), { ...o, onProgress: progress.onProgress });
      } finally {
        progress.done();
      }
      return;
    }
    if (action === 'download' && words.length === 2) {
      const [remote, local] = words as [string, string];
      const progress = bar(ctx, `download ${remote}`);
      try {
        if (local === '-') await sink(local, await ds.download(target(remote), { ...o, onProgress: progress.onProgress }), ctx.signal);
        else await ds.downloadTo(target(remote), local, { ...o, onProgress: progress.onProgress });
      } finally {
        progress.done();
      }
      return;
    }
    if (action === 'mkdir' && words.length === 1) {
      await ds.mkdir(target(words[0]), { ...o, parents: true });
      return;
    }
    if (action === 'rm' && words.length === 1) {
      await ds.delete(target(words[0]), o);
      return;
    }
  } catch (err) {
    throw translated(err);
  }
  throw new UsageError(DATASTORE_USAGE);
}

export async function guest(ctx: Context): Promise<void> {
  const [action, ...rest] = ctx.args.positionals;
  const { words, pairs } = split(rest, ['overwrite'], GUEST_USAGE);
  if ((action !== 'upload' && action !== 'download') || words.length !== 3) throw new UsageError(GUEST_USAGE);
  const overwrite = pairs.get('overwrite');
  if (overwrite !== undefined && overwrite !== 'true' && overwrite !== 'false') throw new UsageError(`overwrite= takes true or false, not ${JSON.stringify(overwrite)}`);
  const username = process.env.VC_GUEST_USER;
  const password = process.env.VC_GUEST_PASSWORD;
  if (!username || password === undefined) throw new UsageError('guest needs the guest\'s credentials in VC_GUEST_USER and VC_GUEST_PASSWORD');
  const vm = await resolve(ctx, words[0], `guest ${action}`);
  if (vm.type !== 'VirtualMachine') throw new UsageError(`guest ${action} needs a VirtualMachine, not a ${vm.type}`);
  const g = guestOf(ctx.client);
  const auth = { username, password };
  try {
    if (action === 'upload') {
      const [, local, guestPath] = words as [string, string, string];
      const progress = bar(ctx, `upload ${guestPath}`);
      try {
        await g.upload(vm as ManagedObjectReference<'VirtualMachine'>, auth, guestPath, source(local), { overwrite: overwrite === 'true', signal: ctx.signal, onProgress: progress.onProgress });
      } finally {
        progress.done();
      }
      return;
    }
    const [, guestPath, local] = words as [string, string, string];
    const progress = bar(ctx, `download ${guestPath}`);
    try {
      await sink(local, await g.download(vm as ManagedObjectReference<'VirtualMachine'>, auth, guestPath, { signal: ctx.signal, onProgress: progress.onProgress }), ctx.signal);
    } finally {
      progress.done();
    }
  } catch (err) {
    throw translated(err);
  }
}
