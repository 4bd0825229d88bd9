// vim25-soap datastore ls|upload|download|mkdir|rm: the commands in this process (run() with the
// environment and pipes an installed bin gets), against a harness of this file's own; a
// progress bar on a terminal's stderr and none in a pipe.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT, run } from '../../src/cli/main.ts';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { ownHarness, tempDir } from '../fixtures.ts';

const harness = ownHarness();

interface Ran { code: number; stdout: string; stderr: string }

async function cli(info: HarnessInfo, args: string[], tty = false): Promise<Ran> {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => done(void chunks.push(chunk.toString())) });
    return { stream: Object.assign(stream, { isTTY }) as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
  };
  const [stdout, stderr] = [sink(tty), sink(tty)];
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', VC_URL: info.url, VC_USER: info.username, VC_PASSWORD: info.password, VC_CA: info.certFile, VC_SESSION_DIR: tempDir('vim25-cli-ds-') };
  const code = await run(args, env, stdout.stream, stderr.stream);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('vim25-soap datastore', () => {
  it('uploads, lists, downloads and removes a file; a progress bar on a terminal only', async () => {
    const { info } = harness();
    const dir = tempDir('vim25-cli-ds-files-');
    const bytes = randomBytes(3 * 1024 * 1024);
    const local = join(dir, 'x.iso');
    writeFileSync(local, bytes);

    const piped = await cli(info, ['datastore', 'upload', local, '[LocalDS_0] cli/x.iso']);
    expect(piped).toEqual({ code: EXIT.ok, stdout: '', stderr: '' });
    const onTty = await cli(info, ['datastore', 'upload', local, '[LocalDS_0] cli/y.iso'], true);
    expect(onTty.code).toBe(EXIT.ok);
    expect(onTty.stderr).toMatch(/upload \[LocalDS_0\] cli\/y\.iso \[#+\] 100%\n$/);

    const ls = await cli(info, ['datastore', 'ls', '[LocalDS_0] cli']);
    expect(ls.code).toBe(EXIT.ok);
    expect(ls.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 3))).toEqual([['x.iso', 'IsoImage', String(bytes.length)], ['y.iso', 'IsoImage', String(bytes.length)]]);
    const json = JSON.parse((await cli(info, ['datastore', 'ls', '[LocalDS_0] cli', '--json'])).stdout) as { name: string; datastorePath: string }[];
    expect(json.map((r) => r.datastorePath)).toEqual(['[LocalDS_0] cli/x.iso', '[LocalDS_0] cli/y.iso']);
    const stores = await cli(info, ['datastore', 'ls']);
    expect(stores.stdout).toMatch(/^LocalDS_0\t/m);

    const back = join(dir, 'back.iso');
    expect((await cli(info, ['datastore', 'download', '[LocalDS_0] cli/x.iso', back])).code).toBe(EXIT.ok);
    expect(sha(readFileSync(back))).toBe(sha(bytes));

    expect((await cli(info, ['datastore', 'mkdir', '[LocalDS_0] cli/a/b'])).code).toBe(EXIT.ok);
    expect((await cli(info, ['datastore', 'rm', '[LocalDS_0] cli/x.iso'])).code).toBe(EXIT.ok);
    expect((await cli(info, ['datastore', 'ls', '[LocalDS_0] cli'])).stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(['a/', 'y.iso', '']);
  });

  it('exit codes: a missing file or datastore is 4, a bad path is 2, a missing local file is 2', async () => {
    const { info } = harness();
    const missing = await cli(info, ['datastore', 'download', '[LocalDS_0] none/x.iso', join(tempDir('vim25-cli-ds-'), 'x')]);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toMatch(/no such file/);
    expect((await cli(info, ['datastore', 'rm', '[NoSuchDS] x'])).code).toBe(EXIT.notFound);
    const bad = await cli(info, ['datastore', 'rm', '[LocalDS_0] ../x']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/\.\./);
    expect((await cli(info, ['datastore', 'upload', '/no/such/file', '[LocalDS_0] x'])).code).toBe(EXIT.usage);
    expect((await cli(info, ['datastore', 'frobnicate'])).code).toBe(EXIT.usage);
  });
});
