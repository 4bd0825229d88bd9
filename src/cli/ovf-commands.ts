// The OVF commands, as govc names them: import.ova (an .ova, or an .ovf with its files beside it,
// or an http(s) URL of one) and export.ovf (a VM to a directory). Streamed through
// src/transfer/; a progress bar on a terminal's stderr, nothing when it is not one.
import type { ManagedObjectReference } from '../index.ts';
import { exportOvf } from '../transfer/ovf-export.ts';
import { OvfPackageError } from '../transfer/ovf-errors.ts';
import { importOva, importOvf, type ImportOvfOptions, type OvfProgress } from '../transfer/ovf-import.ts';
import { UsageError } from './args.ts';
import { NotFoundError, resolve, type Context } from './commands.ts';
import { printTable, progressBar } from './output.ts';

const IMPORT_USAGE = 'import.ova takes FILE (an .ova, an .ovf with its files beside it, or an http(s) URL of an .ovf) [--name NAME] [pool=POOL] [folder=FOLDER] [host=HOST] [datastore=DATASTORE] [net:OVF_NETWORK=NETWORK]... [prop:KEY=VALUE]... [disk=thin|thick|eagerZeroedThick] [power=on]';
const EXPORT_USAGE = 'export.ovf takes VM DIR [--name NAME] (the VM powered off; DIR is created, existing files are not overwritten)';

/** A progress bar for an OVF transfer, on a terminal only. */
function bar(ctx: Context, label: string): { onProgress: (p: OvfProgress) => void; done: () => void } {
  let shown: ReturnType<typeof progressBar> | undefined;
  let last = -1;
  return {
    onProgress: (p) => {
      if (p.total === undefined) return;
      shown ??= progressBar(ctx.stderr, label);
      if (p.percent !== last) shown.update((last = p.percent));
    },
    done: () => shown?.done(),
  };
}

/** A missing package file is "not found" (exit 4); a package that is not OVF is a usage error (exit 2). */
function translated(err: unknown): unknown {
  if (!(err instanceof OvfPackageError)) return err;
  if (err.reason === 'missing-file') return new NotFoundError(err.message);
  if (err.reason === 'not-ovf') return new UsageError(err.message);
  return err;
}

export async function importOvaCommand(ctx: Context): Promise<void> {
  const [file, ...rest] = ctx.args.positionals;
  if (file === undefined || file.includes('=')) throw new UsageError(IMPORT_USAGE);
  const options: ImportOvfOptions = { signal: ctx.signal };
  if (ctx.args.name !== undefined) options.name = ctx.args.name;
  const networks: Record<string, ManagedObjectReference<'Network'>> = {};
  const properties: Record<string, string> = {};
  for (const pair of rest) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${IMPORT_USAGE}; not: ${pair}`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key.startsWith('net:')) networks[key.slice(4)] = ctx.client.ref(await resolve(ctx, value, `import.ova ${key}=`), 'Network');
    else if (key.startsWith('prop:')) properties[key.slice(5)] = value;
    else if (key === 'pool') options.pool = ctx.client.ref(await resolve(ctx, value, 'import.ova pool='), 'ResourcePool');
    else if (key === 'folder') options.folder = ctx.client.ref(await resolve(ctx, value, 'import.ova folder='), 'Folder');
    else if (key === 'host') options.host = ctx.client.ref(await resolve(ctx, value, 'import.ova host='), 'HostSystem');
    else if (key === 'datastore') options.datastore = ctx.client.ref(await resolve(ctx, value, 'import.ova datastore='), 'Datastore');
    else if (key === 'disk') options.diskProvisioning = value;
    else if (key === 'power' && (value === 'on' || value === 'off')) options.powerOn = value === 'on';
    else throw new UsageError(`${IMPORT_USAGE}; not: ${pair}`);
  }
  if (Object.keys(networks).length) options.networkMapping = networks;
  if (Object.keys(properties).length) options.properties = properties;
  const progress = bar(ctx, `import ${file}`);
  options.onProgress = progress.onProgress;
  let vm: ManagedObjectReference<'VirtualMachine'>;
  try {
    vm = /\.ovf$/i.test(file) || /^https?:\/\//i.test(file) ? await importOvf(ctx.client, file, options) : await importOva(ctx.client, file, options);
  } catch (err) {
    throw translated(err);
  } finally {
    progress.done();
  }
  const name = String((await ctx.client.retrieveOne(vm, ['name'], { signal: ctx.signal })).name ?? '');
  printTable(ctx.out, ['NAME', 'VM'], [[name, `${vm.type}:${vm.value}`]], () => ({ name, vm }));
}

export async function exportOvfCommand(ctx: Context): Promise<void> {
  const [target, dir, ...extra] = ctx.args.positionals;
  if (target === undefined || dir === undefined || extra.length > 0) throw new UsageError(EXPORT_USAGE);
  const vm = ctx.client.ref(await resolve(ctx, target, 'export.ovf'), 'VirtualMachine');
  const progress = bar(ctx, `export ${target}`);
  try {
    const result = await exportOvf(ctx.client, vm, { dir, signal: ctx.signal, onProgress: progress.onProgress, ...(ctx.args.name === undefined ? {} : { name: ctx.args.name }) });
    progress.done();
    printTable(ctx.out, ['FILE', 'SIZE', 'SHA256'], [...result.files.map((f) => [f.name, f.size, f.sha256] as const), [result.manifest, '', ''] as const], () => ({ dir, ...result }));
  } catch (err) {
    progress.done();
    throw translated(err);
  }
}
