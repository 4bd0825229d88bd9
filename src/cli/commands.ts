// The commands, on the public client API only (as a user's script would be written).
import { isManagedObjectReference, isManagedTypeName, type CounterName, type ManagedObjectReference, type ManagedTypeName, type VimClient } from '../index.ts';
import { duration, UsageError, type Parsed } from './args.ts';
import { cell, printTable, progressBar, toJson, type Output } from './output.ts';

/** Nothing at the path or id the user gave. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export interface Context {
  client: VimClient;
  args: Parsed;
  out: Output;
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
}

function managedType(name: string | undefined, what: string): ManagedTypeName {
  if (name === undefined) throw new UsageError(`${what} needs a managed type, e.g. VirtualMachine`);
  if (!isManagedTypeName(name)) throw new UsageError(`${JSON.stringify(name)} is not a vim25 managed type (VirtualMachine, HostSystem, Datastore, Folder, …)`);
  return name;
}

/** `Type:value`, an inventory path (`/DC0/vm/x`) or a managed object id (`vm-42`). */
export async function resolve(ctx: Context, target: string | undefined, what: string): Promise<ManagedObjectReference> {
  if (target === undefined || target === '') throw new UsageError(`${what} needs an object: Type:value, an inventory path or an id`);
  const colon = target.indexOf(':');
  if (colon > 0 && !target.includes('/')) {
    const type = managedType(target.slice(0, colon), what);
    return ctx.client.ref(type, target.slice(colon + 1));
  }
  const found = await ctx.client.find('ManagedEntity', target, { signal: ctx.signal });
  if (found.length === 0) throw new NotFoundError(`nothing at ${target}`);
  if (found.length > 1) throw new UsageError(`${target} names ${found.length} objects: give one (Type:value or a full path)`);
  return found[0]!;
}

async function names(ctx: Context, refs: readonly ManagedObjectReference[]): Promise<string[]> {
  return Promise.all(refs.map(async (ref) => {
    const row = await ctx.client.retrieveOne(ctx.client.ref(ref, 'ManagedEntity'), ['name'], { signal: ctx.signal });
    return String(row.name ?? '');
  }));
}

export async function about(ctx: Context): Promise<void> {
  const a = ctx.client.about;
  const fields: [string, unknown][] = [['name', a.name], ['fullName', a.fullName], ['version', a.version], ['build', a.build], ['apiType', a.apiType], ['apiVersion', a.apiVersion], ['instanceUuid', a.instanceUuid], ['url', ctx.client.url]];
  printTable(ctx.out, ['FIELD', 'VALUE'], fields, () => ({ ...a, url: ctx.client.url }));
}

export async function ls(ctx: Context): Promise<void> {
  const path = ctx.args.positionals[0] ?? '/';
  if (!path.startsWith('/')) throw new UsageError('ls takes an absolute inventory path, e.g. / or /DC0/vm');
  const base = path.replace(/\/+$/, '');
  const children = await ctx.client.find('ManagedEntity', `${base}/*`, { signal: ctx.signal });
  // No children: an empty folder, or nothing there at all (which collect answers with exit 4 too).
  if (children.length === 0 && base !== '' && (await ctx.client.find('ManagedEntity', base, { signal: ctx.signal })).length === 0) throw new NotFoundError(`nothing at ${path}`);
  const childNames = await names(ctx, children);
  const rows = children.map((ref, i) => [childNames[i], ref.type, ref.value] as const).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
  printTable(ctx.out, ['NAME', 'TYPE', 'ID'], rows, () => rows.map(([name, type, value]) => ({ name, ref: { type, value } })));
}

export async function find(ctx: Context): Promise<void> {
  const [typeName, pattern] = ctx.args.positionals;
  const type = managedType(typeName, 'find');
  if (pattern === undefined) throw new UsageError('find needs a pattern: /DC0/vm/*, a name, a glob, ... for any depth, or an id');
  const refs = await ctx.client.find(type, pattern, { signal: ctx.signal });
  // Like collect's "nothing at": a script can tell "no such VM" from a failure by the exit code.
  if (refs.length === 0) throw new NotFoundError(`no ${type} matches ${pattern}`);
  const found = await names(ctx, refs);
  const rows = refs.map((ref, i) => [found[i], `${ref.type}:${ref.value}`] as const);
  printTable(ctx.out, ['NAME', 'REF'], rows, () => refs.map((ref, i) => ({ name: found[i], ref })));
}

export async function collect(ctx: Context): Promise<void> {
  const [target, ...paths] = ctx.args.positionals;
  const ref = await resolve(ctx, target, 'collect');
  let props: [string, unknown][];
  if (paths.length > 0) {
    const row = await ctx.client.retrieveOne(ref, paths as never[], { signal: ctx.signal }) as Record<string, unknown> & { missing?: Record<string, Error> };
    props = paths.map((p) => [p, row[p]]);
    for (const [p, fault] of Object.entries(row.missing ?? {})) props.push([p, `(not readable: ${fault.message})`]);
  } else {
    const result = await ctx.client.call('RetrievePropertiesEx', ctx.client.serviceContent.propertyCollector, {
      specSet: [{ propSet: [{ type: ref.type, all: true }], objectSet: [{ obj: ref }] }],
      options: {},
    }, { signal: ctx.signal });
    props = (result?.objects?.[0]?.propSet ?? []).map((p) => [p.name, p.val] as [string, unknown]).sort((a, b) => a[0].localeCompare(b[0]));
  }
  printTable(ctx.out, ['PROPERTY', 'VALUE'], props, () => ({ ref, properties: Object.fromEntries(props) }));
}

function isTaskRef(v: unknown): v is ManagedObjectReference<'Task'> {
  return !!v && typeof v === 'object' && (v as { type?: unknown }).type === 'Task' && typeof (v as { value?: unknown }).value === 'string';
}

export async function call(ctx: Context): Promise<void> {
  const [method, target, json] = ctx.args.positionals;
  if (method === undefined) throw new UsageError('call needs a method, e.g. call PowerOffVM_Task VirtualMachine:vm-42');
  const _this = await resolve(ctx, target, 'call');
  let args: object;
  try {
    args = json === undefined ? {} : (JSON.parse(json) as object);
  } catch {
    // Neither the text nor JSON.parse's message (which quotes it): it may hold a password.
    throw new UsageError('the arguments are not JSON: give one object, e.g. \'{"name": "x"}\'');
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new UsageError('the arguments must be a JSON object, e.g. \'{"name": "x"}\'');
  let result: unknown = await (ctx.client.call as (m: string, t: ManagedObjectReference, a: object, o: object) => Promise<unknown>)(method, _this, args, { signal: ctx.signal });
  if (ctx.args.wait && isTaskRef(result)) {
    const bar = progressBar(ctx.stderr, method);
    try {
      result = await ctx.client.waitForTask(result, { signal: ctx.signal, onProgress: (p) => bar.update(p) });
      bar.update(100);
    } finally {
      bar.done();
    }
  }
  if (ctx.out.json || (result !== null && typeof result === 'object' && !(result instanceof Date))) ctx.out.write(`${toJson(result ?? null, 2)}\n`);
  else if (result !== undefined) ctx.out.write(`${cell(result)}\n`);
}

export async function watch(ctx: Context): Promise<void> {
  const [typeName, ...paths] = ctx.args.positionals;
  const type = managedType(typeName, 'watch');
  if (paths.length === 0) throw new UsageError('watch needs property paths, e.g. watch VirtualMachine runtime.powerState');
  const limit = ctx.args.count;
  let seen = 0;
  for await (const u of ctx.client.watch(type, paths as never[], { signal: ctx.signal })) {
    const props = u.props as Record<string, unknown>;
    if (ctx.out.json) ctx.out.write(`${toJson({ kind: u.kind, ref: u.ref, props })}\n`);
    else ctx.out.write(`${u.kind}\t${u.ref.type}:${u.ref.value}\t${Object.entries(props).map(([k, v]) => `${k}=${cell(v)}`).join('\t')}\n`);
    if (limit !== undefined && ++seen >= limit) break;
  }
}

export async function events(ctx: Context): Promise<void> {
  const since = new Date(Date.now() - duration(ctx.args.since ?? '10m'));
  const entity = ctx.args.positionals[0] === undefined ? undefined : ctx.client.ref(await resolve(ctx, ctx.args.positionals[0], 'events'), 'ManagedEntity');
  const rows: [Date, string, string][] = [];
  const all: unknown[] = [];
  for await (const e of ctx.client.events({ since, ...(ctx.args.types.length > 0 && { types: ctx.args.types }), ...(entity && { entity }), signal: ctx.signal })) {
    rows.push([e.createdTime, e._typeName, e.fullFormattedMessage ?? '']);
    all.push(e);
  }
  printTable(ctx.out, ['TIME', 'TYPE', 'MESSAGE'], rows, () => all);
}

/**
 * A performance counter's name, group.name.rollup: what starts the counters after the objects (so
 * an object after the first whose bare name has two dots, an FQDN, is given as a path or Type:value).
 */
const COUNTER_NAME = /^[^/:]+\.[^/:]+\.[^/:]+$/;

/**
 * metrics OBJECT... COUNTER... [--since 5m]: the samples of those counters (by name), one line per
 * sample: real-time where the object has it (hosts, VMs), else 5-minute; the latest sample
 * without --since.
 */
export async function metrics(ctx: Context): Promise<void> {
  const all = ctx.args.positionals;
  if (all.length === 0) throw new UsageError('metrics needs objects, then counters: metrics VirtualMachine:vm-42 cpu.usage.average mem.usage.average');
  // The first argument is an object whatever its name; the first after it shaped like a counter starts the counters.
  const split = all.findIndex((a, i) => i > 0 && COUNTER_NAME.test(a));
  if (split === -1) throw new UsageError('metrics needs counters after the objects, named group.name.rollup: cpu.usage.average, mem.usage.average, net.usage.average, …');
  const targets = all.slice(0, split);
  const counters = all.slice(split) as CounterName[];
  const entities = await Promise.all(targets.map(async (t) => {
    const ref = await resolve(ctx, t, 'metrics');
    if (!isManagedObjectReference(ref, 'ManagedEntity')) throw new UsageError(`${t} is a ${ref.type}: metrics are kept for managed entities (VirtualMachine, HostSystem, ClusterComputeResource, Datastore, …)`);
    return ref;
  }));
  const ago = (d: string | undefined): Date | undefined => (d === undefined ? undefined : new Date(Date.now() - duration(d)));
  const [since, until] = [ago(ctx.args.since), ago(ctx.args.until)];
  const { interval, instance } = ctx.args;
  const rows = await ctx.client.metrics(entities, counters, {
    ...(since && { since }), ...(until && { until }), ...(interval !== undefined && { interval }), ...(instance !== undefined && { instance }), signal: ctx.signal,
  });
  // None of the objects has any of the counters (a datacenter has no cpu.usage.average, say).
  if (rows.length === 0) throw new NotFoundError(`the server keeps no ${counters.join(', ')} for ${targets.join(', ')}`);
  const lines = rows.flatMap((r) => r.samples.map((s) => [s.time, `${r.ref.type}:${r.ref.value}`, r.counter, r.instance, s.value, r.unit] as const))
    .sort((a, b) => a[0].getTime() - b[0].getTime());
  printTable(ctx.out, ['TIME', 'OBJECT', 'COUNTER', 'INSTANCE', 'VALUE', 'UNIT'], lines, () => rows);
}

/** session save | show | logout: the session kept between commands (in the session directory). */
export async function session(ctx: Context): Promise<void> {
  const action = ctx.args.positionals[0];
  const s = ctx.client.userSession;
  if (action === 'logout') {
    await ctx.client.logout({ signal: ctx.signal });
    printTable(ctx.out, ['SESSION', 'STATE'], [[s?.userName, 'logged out, removed from the session directory']], () => ({ userName: s?.userName, loggedOut: true }));
    return;
  }
  if (action !== 'save' && action !== 'show') throw new UsageError('session takes save, show or logout');
  const fields: [string, unknown][] = [['userName', s?.userName], ['loginTime', s?.loginTime], ['lastActiveTime', s?.lastActiveTime], ['directory', ctx.args.sessionDir ?? '(none: --no-session)']];
  printTable(ctx.out, ['FIELD', 'VALUE'], fields, () => ({ userName: s?.userName, loginTime: s?.loginTime, lastActiveTime: s?.lastActiveTime, directory: ctx.args.sessionDir ?? null }));
}
