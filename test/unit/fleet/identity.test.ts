// Which server user names count as the login's user before a stored session is adopted.
import { describe, expect, it } from 'vitest';
import { sameUser } from '../../../src/fleet/identity.ts';

describe('sameUser', () => {
  it.each([
    ['administrator@vsphere.local', 'VSPHERE.LOCAL\\Administrator'],
    ['Administrator@VSPHERE.LOCAL', 'administrator@vsphere.local'],
    ['VSPHERE.LOCAL\\svc-backup', 'svc-backup@vsphere.local'],
    ['root', 'root'],
    ['administrator', 'VSPHERE.LOCAL\\Administrator'], // no domain in the login: the server picks it
    ['user@corp.example.com', 'CORP.EXAMPLE.COM\\user'],
    [' administrator@vsphere.local ', 'VSPHERE.LOCAL\\Administrator '], // stray blanks around either
    ['user', '\\user'], // an empty domain: the login names none
  ])('%s logs in as %s', (login, server) => {
    expect(sameUser(login, server)).toBe(true);
  });

  it.each([
    ['administrator@vsphere.local', 'VSPHERE.LOCAL\\mallory'],
    ['administrator@vsphere.local', 'EVIL.CORP\\Administrator'],
    ['administrator@vsphere.local', 'administrator'], // the login names a domain the session lacks
    ['root', 'vpxuser'],
    ['admin', 'admin2'],
    ['admin', ''],
    ['', ''],
    ['CORP\\', 'CORP\\'], // no user part: nobody
    ['@corp', 'CORP\\'],
  ])('%s is not %s', (login, server) => {
    expect(sameUser(login, server)).toBe(false);
  });

  it('refuses a session without a user name', () => {
    expect(sameUser('root', undefined)).toBe(false);
    expect(sameUser('root', 42)).toBe(false);
  });
});
