// vim25-soap tags, library and rest: the vAPI commands in this process (run() with the
// environment and pipes an installed bin gets), against harnesses of each test's own.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../../src/cli/main.ts';
import { harnessSetVapiUnified, harnessStats, type HarnessInfo } from '../harness/vcsim.ts';
import { startHarness, tempDir, withBundle } from '../fixtures.ts';
import { VimClient } from 'vim25-soap';

interface Ran { code: number; stdout: string; stderr: string }

async function cli(info: HarnessInfo, args: string[], sessionDir?: string): Promise<Ran> {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => done(void chunks.push(chunk.toString())) });
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
  };
  const [stdout, stderr] = [sink(), sink()];
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', VC_URL: info.url, VC_USER: info.username, VC_PASSWORD: info.password, VC_CA: info.certFile, VC_SESSION_DIR: sessionDir ?? tempDir('vim25-cli-vapi-') };
  const code = await run(args, env, stdout.stream, stderr.stream);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function admin(info: HarnessInfo): Promise<VimClient> {
  const c = await VimClient.connect(info.url, { ...withBundle(), tls: { ca: readFileSync(info.certFile) } });
  onTestFinished(() => c.close());
  await c.login({ username: info.username, password: info.password });
  return c;
}

describe('vim25-soap tags, library, rest', () => {
  it('lists, attaches and detaches tags; lists libraries; sends any vAPI request', async () => {
    const h = await startHarness();
    const a = await admin(h.info);
    const tags = a.tags;
    await tags.createCategory({ name: 'zone', cardinality: 'SINGLE' });
    const east = await tags.createTag({ name: 'us-east-1a', category: 'zone', description: 'east' });

    const ls = await cli(h.info, ['tags', 'ls']);
    expect(ls).toMatchObject({ code: 0, stderr: '' });
    expect(ls.stdout).toBe(`zone\tus-east-1a\t${east.id}\teast\n`); // a pipe: tab-separated, no header

    const attached = await cli(h.info, ['tags', 'attach', 'zone/us-east-1a', '/DC0/vm/DC0_H0_VM0', 'VirtualMachine:vm-x', '--json']);
    expect(attached).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(attached.stdout)).toMatchObject({ tag: east.id, attached: true });
    const objects = (await tags.objects([east.id]))[0]!.objects.map((r) => `${r.type}:${r.value}`).sort();
    expect(objects).toHaveLength(2);
    expect(objects).toContain('VirtualMachine:vm-x');
    expect((await cli(h.info, ['tags', 'detach', east.id, 'VirtualMachine:vm-x'])).code).toBe(0);
    expect((await tags.objects([east.id]))[0]!.objects).toHaveLength(1);

    const rest = await cli(h.info, ['rest', 'GET', '/api/cis/tagging/category']);
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout)).toHaveLength(1);
    const find = await cli(h.info, ['rest', 'post', '/api/content/library?action=find', '{"name":"none"}']);
    expect(find).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(find.stdout)).toEqual([]);
    expect(await cli(h.info, ['library', 'ls'])).toMatchObject({ code: 0, stdout: '' });
    expect(JSON.parse((await cli(h.info, ['library', 'ls', '--json'])).stdout)).toEqual([]);
  });

  it('exit codes: 4 for a missing tag or resource, 2 for usage, 1 for a refused request', async () => {
    const h = await startHarness();
    expect(await cli(h.info, ['tags', 'attach', 'zone/nope', 'VirtualMachine:vm-1'])).toMatchObject({ code: 4 });
    const missing = await cli(h.info, ['rest', 'GET', '/api/cis/tagging/tag/urn:vmomi:InventoryServiceTag:nope:GLOBAL']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/404 NOT_FOUND/);
    expect((await cli(h.info, ['rest', 'GET', '/sdk'])).code).toBe(2);
    expect((await cli(h.info, ['rest', 'GET', '/api/x', '{bad'])).code).toBe(2);
    expect((await cli(h.info, ['tags', 'rename'])).code).toBe(2);
    const bad = await cli(h.info, ['rest', 'POST', '/api/cis/tagging/category', '{}']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/400 INVALID_ARGUMENT/);
  });

  it('on an older server the command makes a vAPI session and logs it out as it ends', async () => {
    const h = await startHarness();
    await harnessSetVapiUnified(h.info, false);
    const ran = await cli(h.info, ['rest', 'GET', '/api/cis/tagging/tag', '--no-session']);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(ran.stdout)).toEqual([]);
    const stats = await harnessStats(h.info);
    expect(stats.apiSessionRequests).toBe(2); // POST, DELETE
    expect(stats.sessions).toBe(0);
  });
});
