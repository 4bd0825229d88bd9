import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalTicketError, readLocalTicket } from '../../../src/session/local-ticket.ts';
import { isLoopbackUrl } from '../../../src/transport/url.ts';
import { tempDir } from '../../fixtures.ts';

const root = tempDir('vim25-local-ticket-');
const dir = join(root, 'tickets');
mkdirSync(dir);
writeFileSync(join(dir, 'good'), 'one-time-password\n', { mode: 0o600 });
writeFileSync(join(root, 'secret'), 'SECRET-CONTENT', { mode: 0o600 });
symlinkSync(join(root, 'secret'), join(dir, 'link'));
mkdirSync(join(dir, 'subdir'));
writeFileSync(join(dir, 'big'), 'x'.repeat(5000));
writeFileSync(join(dir, 'foreign'), 'someone else');
if (process.getuid?.() === 0) chownSync(join(dir, 'foreign'), 4321, 4321);
execFileSync('mkfifo', [join(dir, 'fifo')]);

async function problem(path: string): Promise<string | undefined> {
  try {
    await readLocalTicket(path, [dir]);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(LocalTicketError);
    expect((err as Error).message).not.toContain('SECRET-CONTENT');
    return (err as LocalTicketError).reason;
  }
}

describe('readLocalTicket', () => {
  it('reads a regular file directly inside a ticket directory', async () => {
    expect(await readLocalTicket(join(dir, 'good'), [dir])).toBe('one-time-password');
  });

  it.each([
    ['a file outside the directories', join(root, 'secret'), 'outsideTicketDirectory'],
    ['a path that climbs out with ..', join(dir, '..', 'secret'), 'outsideTicketDirectory'],
    ['/etc/passwd', '/etc/passwd', 'outsideTicketDirectory'],
    ['a relative path', 'tickets/good', 'outsideTicketDirectory'],
    ['a file in a subdirectory', join(dir, 'subdir', 'x'), 'outsideTicketDirectory'],
    ['a symbolic link', join(dir, 'link'), 'notRegularFile'],
    ['a directory', join(dir, 'subdir'), 'notRegularFile'],
    ['a FIFO (never blocks)', join(dir, 'fifo'), 'notRegularFile'],
    ['a missing file', join(dir, 'missing'), 'notRegularFile'],
    ['a large file', join(dir, 'big'), 'tooLarge'],
  ])('refuses %s', async (_what, path, reason) => {
    expect(await problem(path)).toBe(reason);
  });

  it.runIf(process.getuid?.() === 0)('refuses a file another user owns', async () => {
    expect(await problem(join(dir, 'foreign'))).toBe('wrongOwner');
  });

  it('refuses everything when no ticket directory exists here', async () => {
    await expect(readLocalTicket(join(dir, 'good'), ['/nonexistent-ticket-dir'])).rejects.toMatchObject({ reason: 'outsideTicketDirectory' });
  });
});

describe('isLoopbackUrl', () => {
  it.each([
    ['https://localhost/sdk', true], ['https://127.0.0.1:8443/sdk', true], ['https://127.1.2.3/sdk', true], ['https://[::1]/sdk', true],
    ['https://vc.example.com/sdk', false], ['https://10.0.0.1/sdk', false], ['https://127.0.0.1.example.com/sdk', false], ['https://localhost.example.com/sdk', false],
  ])('%s -> %s', (url, local) => {
    expect(isLoopbackUrl(url)).toBe(local);
  });
});
