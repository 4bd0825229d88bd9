import { describe, expect, it } from 'vitest';
import { duration, parse, UsageError } from '../../../src/cli/args.ts';
import { cell, printTable, toJson } from '../../../src/cli/output.ts';

function capture(isTTY: boolean, json = false) {
  let text = '';
  return { out: { json, isTTY, write: (t: string) => (text += t) }, text: () => text };
}

describe('cli output', () => {
  const rows = [['web1', { type: 'VirtualMachine', value: 'vm-1' }, new Date('2026-01-01T00:00:00Z')], ['db', undefined, 5n]] as const;

  it('aligns a table on a terminal and separates by tabs in a pipe', () => {
    const tty = capture(true);
    printTable(tty.out, ['NAME', 'REF', 'WHEN'], rows, () => null);
    expect(tty.text()).toBe('NAME  REF                  WHEN\nweb1  VirtualMachine:vm-1  2026-01-01T00:00:00.000Z\ndb                         5\n');
    const pipe = capture(false);
    printTable(pipe.out, ['NAME', 'REF', 'WHEN'], rows, () => null);
    expect(pipe.text()).toBe('web1\tVirtualMachine:vm-1\t2026-01-01T00:00:00.000Z\ndb\t\t5\n');
  });

  it('prints JSON with --json, bigints and bytes included', () => {
    const j = capture(true, true);
    printTable(j.out, ['X'], [], () => ({ big: 2n ** 64n, bytes: new Uint8Array([1, 2]) }));
    expect(JSON.parse(j.text())).toEqual({ big: '18446744073709551616', bytes: 'AQI=' });
    expect(toJson({ d: new Date(0) })).toBe('{"d":"1970-01-01T00:00:00.000Z"}');
    expect(cell([{ type: 'HostSystem', value: 'host-1' }, { type: 'HostSystem', value: 'host-2' }])).toBe('HostSystem:host-1,HostSystem:host-2');
  });
});

describe('cli arguments', () => {
  it('takes the server from the environment, flags first', () => {
    const p = parse(['ls', '/DC0', '--user', 'me'], { VC_URL: 'https://vc/sdk', VC_USER: 'env', VC_PASSWORD: 'pw', VC_THUMBPRINT: 'AA' });
    expect(p).toMatchObject({ command: 'ls', positionals: ['/DC0'], connection: { url: 'https://vc/sdk', user: 'me', password: 'pw', thumbprint: 'AA', from: { url: 'VC_URL', thumbprint: 'VC_THUMBPRINT' } } });
    expect(parse(['about'], {}).connection).toBeUndefined();
    expect(parse(['about', '--url', 'https://flag/sdk', '--insecure'], { VC_URL: 'https://vc/sdk' }).connection?.from).toMatchObject({ url: '--url', insecure: '--insecure', ca: 'VC_CA' });
  });

  it('refuses unknown flags and bad values with a UsageError', () => {
    expect(() => parse(['ls', '--nope'], {})).toThrow(UsageError);
    expect(() => parse(['watch', '--count', '0'], {})).toThrow(/at least 1/);
    expect(duration('10m')).toBe(600_000);
    expect(() => duration('ten minutes')).toThrow(UsageError);
  });
});
