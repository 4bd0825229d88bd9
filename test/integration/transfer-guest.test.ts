// Guest files through a VimClient (src/transfer/guest.ts): GuestFileManager's transfer URLs
// (served by the harness's test/vcsim/guest_files.go, since vcsim's own need containers), a
// round trip byte for byte, overwrite, missing files, refused credentials and power states, no
// session cookie on the ticketed URL, and abort. On a harness of this file's own: it powers a
// VM off and writes guest files.
import { createHash, randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EXIT, run } from '../../src/cli/main.ts';
import { VimClient } from '../../src/client.ts';
import { AbortError, isVimFault } from '../../src/errors.ts';
import type { ManagedObjectReference } from '../../src/generated/types.ts';
import { TransferError } from '../../src/transfer/errors.ts';
import { guestOf } from '../../src/transfer/guest.ts';
import { ownHarness, tempDir, withBundle } from '../fixtures.ts';

const harness = ownHarness();
const auth = { username: 'root', password: 'guest-secret' };

async function client(): Promise<VimClient> {
  const h = harness();
  const c = await VimClient.connect(h.info.url, { ...withBundle(), tls: { ca: readFileSync(h.info.certFile) } });
  onTestFinished(() => c.close());
  await c.login({ username: h.info.username, password: h.info.password });
  return c;
}

async function poweredOnVm(c: VimClient, index = 0): Promise<ManagedObjectReference<'VirtualMachine'>> {
  const rows = await c.retrieve('VirtualMachine', ['name', 'runtime.powerState']);
  const on = rows.filter((r) => r['runtime.powerState'] === 'poweredOn').sort((a, b) => a.name.localeCompare(b.name));
  expect(on.length).toBeGreaterThan(index);
  return on[index]!.ref;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('guest files', () => {
  it('a file goes into the guest and comes back byte-identical, from a buffer, a file path and a stream with its length', async () => {
    const c = await client();
    const vm = await poweredOnVm(c);
    const guest = guestOf(c);
    const bytes = randomBytes(5 * 1024 * 1024 + 3);
    const progress: number[] = [];
    await guest.upload(vm, auth, '/tmp/a.bin', bytes, { onProgress: (p) => progress.push(p.bytes) });
    expect(progress.at(-1)).toBe(bytes.length);
    expect(sha(Buffer.concat(await (await guest.download(vm, auth, '/tmp/a.bin')).toArray()))).toBe(sha(bytes));

    const file = join(tempDir('vim25-guest-'), 'b.bin');
    writeFileSync(file, bytes.subarray(0, 1000));
    await guest.upload(vm, auth, 'C:\\Temp\\b.bin', file);
    expect(Buffer.concat(await (await guest.download(vm, auth, 'C:\\Temp\\b.bin')).toArray())).toEqual(bytes.subarray(0, 1000));

    await guest.upload(vm, auth, '/tmp/c.bin', Readable.from([bytes.subarray(0, 10), bytes.subarray(10, 20)]), { length: 20 });
    expect(Buffer.concat(await (await guest.download(vm, auth, '/tmp/c.bin')).toArray())).toEqual(bytes.subarray(0, 20));
  });

  it('a file already there is FileAlreadyExists unless overwrite is set; a missing one is not-found', async () => {
    const c = await client();
    const vm = await poweredOnVm(c);
    const guest = guestOf(c);
    await guest.upload(vm, auth, '/tmp/once.txt', Buffer.from('first'));
    const err = await guest.upload(vm, auth, '/tmp/once.txt', Buffer.from('second')).catch((e: unknown) => e);
    expect(isVimFault(err, 'FileAlreadyExists')).toBe(true);
    await guest.upload(vm, auth, '/tmp/once.txt', Buffer.from('second'), { overwrite: true });
    expect(Buffer.concat(await (await guest.download(vm, auth, '/tmp/once.txt')).toArray()).toString()).toBe('second');
    const missing = await guest.download(vm, auth, '/tmp/none.txt').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TransferError);
    expect((missing as TransferError).reason).toBe('not-found');
  });

  it('refused guest credentials and a powered-off VM are the server\'s faults; a stream without a length is refused before any call', async () => {
    const c = await client();
    const guest = guestOf(c);
    const vm = await poweredOnVm(c, 1);
    const bad = await guest.upload(vm, { username: 'root', password: 'wrong' }, '/tmp/x', Buffer.from('x')).catch((e: unknown) => e);
    expect(isVimFault(bad, 'InvalidGuestLogin')).toBe(true);
    expect(String(bad)).not.toContain('wrong');
    const noLength = await guest.upload(vm, auth, '/tmp/x', Readable.from([Buffer.from('x')])).catch((e: unknown) => e);
    expect((noLength as TransferError).reason).toBe('bad-source');
    const nul = await guest.upload(vm, auth, '/tmp/x\0y', Buffer.from('x')).catch((e: unknown) => e);
    expect((nul as TransferError).reason).toBe('bad-path');
    await c.waitForTask(await c.call('PowerOffVM_Task', vm, {}));
    const off = await guest.download(vm, auth, '/tmp/x').catch((e: unknown) => e);
    expect(isVimFault(off, 'InvalidPowerState')).toBe(true);
  });

  it('the ticketed URL goes to the host the client reached, without the session cookie', async () => {
    const c = await client();
    const vm = await poweredOnVm(c);
    const guest = guestOf(c);
    const seen: { host: string | undefined; path: string; cookie: unknown }[] = [];
    const onStart = (m: unknown): void => {
      const req = (m as { request: ClientRequest }).request;
      seen.push({ host: req.getHeader('host') as string | undefined, path: req.path, cookie: req.getHeader('cookie') });
    };
    diagnostics.subscribe('http.client.request.start', onStart);
    try {
      await guest.upload(vm, auth, '/tmp/cookie.txt', Buffer.from('x'), { overwrite: true });
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onStart);
    }
    const put = seen.find((s) => s.path.startsWith('/guestFile'));
    expect(put).toBeDefined();
    expect(put!.host).toBe(new URL(harness().info.url).host);
    expect(put!.cookie).toBeUndefined();
    expect(seen.filter((s) => s.path.startsWith('/sdk')).every((s) => String(s.cookie).includes('vmware_soap_session'))).toBe(true);
  });

  it('the ticketed URL (its token) appears in no log line, also with debug on', async () => {
    const h = harness();
    const lines: string[] = [];
    const log = (level: string) => (m: string, d?: Record<string, unknown>): void => void lines.push(`${level} ${m} ${JSON.stringify(d ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    const c = await VimClient.connect(h.info.url, { ...withBundle(), tls: { ca: readFileSync(h.info.certFile) }, debug: true, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } });
    onTestFinished(() => c.close());
    await c.login({ username: h.info.username, password: h.info.password });
    const vm = await poweredOnVm(c);
    const tokens: string[] = [];
    // Whichever HTTP stack carries them: Node's (http.client.*) or undici's (undici:request:*).
    const onStart = (m: unknown): void => {
      const path = (m as { request: { path: string } }).request.path;
      if (path.startsWith('/guestFile')) tokens.push(new URLSearchParams(path.split('?')[1]).get('token')!);
    };
    diagnostics.subscribe('http.client.request.start', onStart);
    diagnostics.subscribe('undici:request:create', onStart);
    try {
      await guestOf(c).upload(vm, auth, '/tmp/log.txt', Buffer.from('x'), { overwrite: true });
      await (await guestOf(c).download(vm, auth, '/tmp/log.txt')).toArray();
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onStart);
      diagnostics.unsubscribe('undici:request:create', onStart);
    }
    expect(tokens).toHaveLength(2);
    // The debug log has the calls that returned the URLs: they are there, the URLs are not.
    expect(lines.some((l) => l.includes('InitiateFileTransferToGuest'))).toBe(true);
    expect(lines.some((l) => l.includes('InitiateFileTransferFromGuest'))).toBe(true);
    for (const t of tokens) expect(lines.filter((l) => l.includes(t))).toEqual([]);
  });

  it('an abort midway ends the download stream with the abort', async () => {
    const c = await client();
    const vm = await poweredOnVm(c);
    const guest = guestOf(c);
    await guest.upload(vm, auth, '/tmp/big.bin', Buffer.alloc(16 * 1024 * 1024, 7), { overwrite: true });
    const ctrl = new AbortController();
    const body = await guest.download(vm, auth, '/tmp/big.bin', { signal: ctrl.signal });
    let got = 0;
    const err = await (async () => {
      for await (const chunk of body) {
        got += (chunk as Buffer).length;
        if (got >= 1024 * 1024) ctrl.abort();
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(got).toBeLessThan(16 * 1024 * 1024);
  });

  it('vim25-soap guest upload and download, with the credentials from the environment', async () => {
    const h = harness();
    const c = await client();
    const vm = await poweredOnVm(c);
    const dir = tempDir('vim25-guest-cli-');
    const local = join(dir, 'up.txt');
    writeFileSync(local, 'from the command line');
    const cli = async (args: string[]): Promise<{ code: number; stderr: string }> => {
      const chunks: string[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _enc, done) => done(void chunks.push(chunk.toString())) }) as unknown as NodeJS.WriteStream;
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', VC_URL: h.info.url, VC_USER: h.info.username, VC_PASSWORD: h.info.password, VC_CA: h.info.certFile, VC_SESSION_DIR: tempDir('vim25-guest-cli-s-') };
      const code = await run(args, env, sink, sink);
      return { code, stderr: chunks.join('') };
    };
    const saved = { user: process.env.VC_GUEST_USER, password: process.env.VC_GUEST_PASSWORD };
    onTestFinished(() => {
      for (const [k, v] of [['VC_GUEST_USER', saved.user], ['VC_GUEST_PASSWORD', saved.password]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    delete process.env.VC_GUEST_USER;
    expect((await cli(['guest', 'upload', `VirtualMachine:${vm.value}`, local, '/tmp/cli.txt'])).code).toBe(EXIT.usage);
    process.env.VC_GUEST_USER = auth.username;
    process.env.VC_GUEST_PASSWORD = auth.password;
    expect(await cli(['guest', 'upload', `VirtualMachine:${vm.value}`, local, '/tmp/cli.txt', 'overwrite=true'])).toEqual({ code: EXIT.ok, stderr: '' });
    const back = join(dir, 'down.txt');
    expect(await cli(['guest', 'download', `VirtualMachine:${vm.value}`, '/tmp/cli.txt', back])).toEqual({ code: EXIT.ok, stderr: '' });
    expect(readFileSync(back, 'utf8')).toBe('from the command line');
    expect((await cli(['guest', 'download', `VirtualMachine:${vm.value}`, '/tmp/none.txt', back])).code).toBe(EXIT.notFound);
  });
});
