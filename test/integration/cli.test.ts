// The vim25-soap command as a shell user runs it: child processes against the harness, their
// output (tables, --json), exit codes and messages.
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { harnessStats, type HarnessInfo } from '../harness/vcsim.ts';
import { packageBin } from '../harness/package.ts';
import { ownHarness } from '../harness/inventory.ts';
import { run } from '../../src/cli/main.ts';
import { tempDir } from '../fixtures.ts';

// The package's bin (package.ts), run on plain node as an installed one is.
const BIN = packageBin();
const shared = inject('harness');

interface Ran { code: number; stdout: string; stderr: string }

// The sessions the commands keep between them, in a directory of this file's own.
const sessionDir = tempDir('vim25-cli-sessions-');

function env(info: HarnessInfo, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', VC_URL: info.url, VC_USER: info.username, VC_PASSWORD: info.password, VC_CA: info.certFile, VC_SESSION_DIR: sessionDir, ...extra };
}

/** The command as a child process, as an installed bin runs. */
function cli(info: HarnessInfo, args: string[], extra: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: env(info, extra), timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/**
 * The same command in this process: bin.ts only hands run() the process's argv, environment and
 * standard streams (a pipe here: not a TTY), so exit codes and output are the same, without a
 * process start (most of a short command's CPU) per case.
 */
async function inProcess(info: HarnessInfo, args: string[], extra: Record<string, string> = {}): Promise<Ran> {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => done(void chunks.push(chunk.toString())) });
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
  };
  const [stdout, stderr] = [sink(), sink()];
  const code = await run(args, env(info, extra), stdout.stream, stderr.stream);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('vim25-soap (read-only, on the shared harness)', () => {
  it('a reader that goes away (| head) ends the command quietly, without a stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'ls', '/DC0/vm'], { env: env(shared), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the pipe's reader closed before the command writes
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('about, ls, find and collect print what the server has, as tables and as JSON', async () => {
    // The installed command once, as a process of its own; the other commands in this process.
    const [about, aboutJson, ls, lsVm, find, collect, collectJson] = await Promise.all([
      cli(shared, ['about']),
      inProcess(shared, ['about', '--json']),
      inProcess(shared, ['ls']),
      inProcess(shared, ['ls', '/DC0/vm', '--json']),
      inProcess(shared, ['find', 'VirtualMachine', '/DC0/vm/*']),
      inProcess(shared, ['collect', '/DC0/vm/DC0_H0_VM0', 'name', 'runtime.powerState']),
      inProcess(shared, ['collect', '/DC0/vm/DC0_H0_VM0', '--json']),
    ]);
    for (const r of [about, aboutJson, ls, lsVm, find, collect, collectJson]) expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(about.stdout).toMatch(/^apiVersion\t\S+$/m); // a pipe: tab-separated
    expect(JSON.parse(aboutJson.stdout)).toMatchObject({ _typeName: 'AboutInfo', apiVersion: shared.apiVersion, instanceUuid: shared.instanceUuid });
    expect(ls.stdout).toMatch(/^DC0\tDatacenter\t\S+$/m);
    const vms = JSON.parse(lsVm.stdout) as { name: string; ref: { type: string } }[];
    expect(vms.length).toBeGreaterThan(0);
    expect(vms.map((v) => v.name)).toContain('DC0_H0_VM0');
    expect(find.stdout.trim().split('\n').length).toBe(vms.filter((v) => v.ref.type === 'VirtualMachine').length);
    expect(find.stdout).toMatch(/^DC0_H0_VM0\tVirtualMachine:\S+$/m);
    expect(collect.stdout).toMatch(/^name\tDC0_H0_VM0$/m);
    expect(collect.stdout).toMatch(/^runtime\.powerState\tpowered(On|Off)$/m);
    const all = JSON.parse(collectJson.stdout) as { ref: { type: string }; properties: Record<string, unknown> };
    expect(all.ref.type).toBe('VirtualMachine');
    expect(all.properties).toHaveProperty('config');
  });

  it('call runs any method and prints its result; events reads the event history', async () => {
    const [time, events, debug] = await Promise.all([
      inProcess(shared, ['call', 'CurrentTime', 'ServiceInstance:ServiceInstance']),
      inProcess(shared, ['events', '--since', '1d', '--json']),
      inProcess(shared, ['call', 'CurrentTime', 'ServiceInstance:ServiceInstance', '--debug', '--no-session']),
    ]);
    // --debug: the SOAP on the wire on stderr, the password redacted.
    expect(debug.code, debug.stderr).toBe(0);
    expect(debug.stderr).toMatch(/^debug request \{"method":"Login","envelope":".*<password>\[redacted\]<\/password>/m);
    expect(debug.stderr).toMatch(/^debug request \{"method":"CurrentTime"/m);
    expect(debug.stdout.trim()).toMatch(/^\d{4}-/);
    expect(time).toMatchObject({ code: 0, stderr: '' });
    expect(new Date(time.stdout.trim()).getTime()).toBeGreaterThan(0);
    expect(events.code, events.stderr).toBe(0);
    const list = JSON.parse(events.stdout) as { _typeName: string }[];
    expect(list.every((e) => typeof e._typeName === 'string' && e._typeName.endsWith('Event'))).toBe(true);
  });

  it('exits with a code and a message a shell user can act on', async () => {
    // Not a certificate, and not a directory.
    const notPem = join(tempDir('vim25-cli-files-'), 'notes.txt');
    writeFileSync(notPem, 'not a certificate\n');
    const cases: [string, string[], Record<string, string>, number, RegExp | undefined][] = [
      ['about needs no login', ['about'], { VC_PASSWORD: 'wrong-Passw0rd-xyz' }, 0, undefined],
      ['a wrong password', ['ls'], { VC_PASSWORD: 'wrong-Passw0rd-xyz' }, 3, /login refused: .*InvalidLogin/],
      ['an unknown path', ['collect', '/DC0/vm/no-such-vm'], {}, 4, /nothing at \/DC0\/vm\/no-such-vm/],
      ['ls of an unknown path', ['ls', '/DC0/no-such-folder'], {}, 4, /nothing at \/DC0\/no-such-folder/],
      ['ls of an object without children', ['ls', '/DC0/vm/DC0_H0_VM0'], {}, 0, undefined],
      ['find matching nothing', ['find', 'VirtualMachine', '/DC0/vm/no-such-vm'], {}, 4, /no VirtualMachine matches \/DC0\/vm\/no-such-vm/],
      ['a misspelt property path', ['collect', '/DC0/vm/DC0_H0_VM0', 'runtime.powerStat'], {}, 2, /runtime\.powerStat/],
      ['an unknown type', ['find', 'VirtualMachin', '*'], {}, 2, /not a vim25 managed type/],
      ['bad JSON arguments', ['call', 'CurrentTime', 'ServiceInstance:ServiceInstance', '{nope'], {}, 2, /not JSON/],
      ['an unknown counter', ['metrics', '/DC0/vm/DC0_H0_VM0', 'cpu.usage.avrage'], {}, 2, /no performance counter 'cpu\.usage\.avrage'; did you mean 'cpu\.usage\.average'/],
      ['metrics without counters', ['metrics', '/DC0/vm/DC0_H0_VM0'], {}, 2, /metrics needs counters after the objects/],
      ['metrics of what is no entity', ['metrics', 'ServiceInstance:ServiceInstance', 'cpu.usage.average'], {}, 2, /ServiceInstance:ServiceInstance is a ServiceInstance: metrics are kept for managed entities/],
      ['metrics no object keeps', ['metrics', '/DC0', 'cpu.usage.average'], {}, 4, /the server keeps no cpu\.usage\.average for \/DC0$/m],
      ['metrics of an unknown path', ['metrics', '/DC0/vm/no-such-vm', 'cpu.usage.average'], {}, 4, /nothing at \/DC0\/vm\/no-such-vm/],
      ['an unknown command', ['frobnicate'], {}, 2, /unknown command "frobnicate"/],
      ['no server', ['ls'], { VC_URL: '' }, 2, /set VC_URL/],
      ['a VC_URL that is no URL', ['about'], { VC_URL: 'vc.example.com/sdk' }, 2, /^vim25-soap: VC_URL is not a URL: "vc\.example\.com\/sdk"/],
      ['a --url that is not https', ['about', '--url', 'ftp://vc.example.com/sdk'], {}, 2, /^vim25-soap: --url: expected an https:\/\/ URL/],
      ['a password in VC_URL', ['ls'], { VC_URL: 'https://me:wrong-Passw0rd-xyz@vc.example.com/sdk' }, 2, /^vim25-soap: VC_URL: put the user in VC_USER/],
      ['a password in a VC_URL that is no URL', ['ls'], { VC_URL: 'https://me:wrong-Passw0rd-xyz@[vc/sdk' }, 2, /^vim25-soap: VC_URL is not a URL/],
      ['a thumbprint too short', ['about'], { VC_CA: '', VC_THUMBPRINT: 'AB:CD:EF' }, 2, /^vim25-soap: VC_THUMBPRINT: expected a SHA-1 \(40 hex digits\) or SHA-256/],
      ['a thumbprint not in hex', ['about', '--thumbprint', shared.sha1.replace(/.$/, 'Z')], { VC_CA: '' }, 2, /^vim25-soap: --thumbprint: expected a SHA-1/],
      ['a missing CA file', ['about'], { VC_CA: '/nonexistent/vc-ca.pem' }, 2, /^vim25-soap: VC_CA: cannot read \/nonexistent\/vc-ca\.pem: no such file/],
      ['a CA file with no certificate', ['about', '--ca', notPem], {}, 2, /^vim25-soap: --ca: .*notes\.txt holds no PEM certificate/],
      ['a mistyped VC_INSECURE', ['about'], { VC_CA: '', VC_INSECURE: 'yes' }, 2, /^vim25-soap: VC_INSECURE takes 1 or 0, not "yes"/],
      ['a mistyped VC_PROTOCOL', ['about'], { VC_PROTOCOL: 'xml' }, 2, /^vim25-soap: VC_PROTOCOL takes soap, json or auto, not "xml"/],
      ['a mistyped --interval', ['metrics', '/DC0/vm/DC0_H0_VM0', 'cpu.usage.average', '--interval', '60'], {}, 2, /^vim25-soap: --interval takes realtime, 300, 1800, 7200 or 86400, not "60"/],
      ['a session directory that is a file', ['ls', '/DC0'], { VC_SESSION_DIR: notPem }, 2, /^vim25-soap: VC_SESSION_DIR: cannot keep sessions in .*notes\.txt: .*is not a directory$/m],
      // Node 20's recursive mkdir looped there for ever, at full CPU.
      ['a session directory that cannot be made', ['ls', '/DC0'], { VC_SESSION_DIR: '/proc/vim25-nope/sessions' }, 2, /^vim25-soap: VC_SESSION_DIR: cannot keep sessions in \/proc\/vim25-nope\/sessions: /],
      ['a password in arguments that are not JSON', ['call', 'Login', 'SessionManager:SessionManager', '{"userName": "me", "password": "wrong-Passw0rd-xyz"'], {}, 2, /not JSON/],
      // In the command's terms: the library's own hint names its options (tls.thumbprint).
      ['an untrusted certificate', ['about'], { VC_CA: '' }, 5, /SHA-256 [0-9A-F:]+\).* Pass --thumbprint \(or VC_THUMBPRINT\) to pin that certificate, or --ca \(or VC_CA\)/],
    ];
    const results = await Promise.all(cases.map(([, args, env]) => inProcess(shared, args, env)));
    cases.forEach(([what, , , code, message], i) => {
      const r = results[i]!;
      expect(r.code, `${what}: ${r.stderr}`).toBe(code);
      if (message) expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).not.toContain('wrong-Passw0rd-xyz');
      expect(r.stderr, what).not.toMatch(/tls\.|TypeError|\bE[A-Z]{3,}:|^\s+at /m);
      // A usage error is one line a user can act on, naming what to correct.
      if (code === 2) expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
    });
  });

  it('speaks VI/JSON with --protocol json (VC_PROTOCOL), with the same answers', async () => {
    const [soap, json, viaEnv] = await Promise.all([
      inProcess(shared, ['ls', '/DC0/vm', '--json', '--no-session']),
      inProcess(shared, ['ls', '/DC0/vm', '--json', '--no-session', '--protocol', 'json']),
      inProcess(shared, ['collect', '/DC0/vm/DC0_H0_VM0', 'name', '--json', '--no-session'], { VC_PROTOCOL: 'json' }),
    ]);
    for (const r of [soap, json, viaEnv]) expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(soap.stdout));
    expect(viaEnv.stdout).toContain('DC0_H0_VM0');
  });

  it('metrics prints samples of counters by name, percent as percent, as lines and as JSON', async () => {
    const [lines, json, latest] = await Promise.all([
      inProcess(shared, ['metrics', '/DC0/vm/DC0_H0_VM0', 'cpu.usage.average', 'mem.usage.average', '--since', '5m']),
      inProcess(shared, ['metrics', '/DC0/vm/DC0_H0_VM0', '/DC0/host/DC0_H0/DC0_H0', 'cpu.usage.average', '--json']),
      inProcess(shared, ['metrics', '/DC0/host/DC0_C0', 'cpu.usagemhz.average']),
    ]);
    for (const r of [lines, json, latest]) expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    // --interval, --until and --instance reach the query: 5-minute samples of the VM, up to a minute ago, the aggregate.
    const historical = await inProcess(shared, ['metrics', '/DC0/vm/DC0_H0_VM0', 'cpu.usage.average', '--interval', '300', '--since', '1h', '--until', '1m', '--instance', '', '--json']);
    expect(historical, historical.stderr).toMatchObject({ code: 0, stderr: '' });
    const hist = JSON.parse(historical.stdout) as { interval: number; instance: string; samples: { time: string }[] }[];
    expect(hist.map((r) => [r.interval, r.instance])).toEqual([[300, '']]);
    expect(hist[0]!.samples.every((x) => Date.parse(x.time) <= Date.now() - 60_000)).toBe(true);
    // TIME, OBJECT, COUNTER, INSTANCE ('' the aggregate), VALUE, UNIT: 20-second samples of five minutes, oldest first.
    const rows = lines.stdout.trim().split('\n').map((l) => l.split('\t'));
    for (const counter of ['cpu.usage.average', 'mem.usage.average']) {
      const of = rows.filter((r) => r[2] === counter);
      expect(of.length, counter).toBeGreaterThanOrEqual(15);
      expect(of.every((r) => /^VirtualMachine:vm-\d+$/.test(r[1]!) && r[3] === '' && r[5] === 'percent' && Number(r[4]) > 0 && Number(r[4]) <= 100), counter).toBe(true);
    }
    const times = rows.map((r) => Date.parse(r[0]!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Without --since, the latest sample of each.
    const parsed = JSON.parse(json.stdout) as { ref: { type: string }; counter: string; instance: string; unit: string; interval: number; samples: { time: string; value: number }[] }[];
    expect(parsed.map((r) => [r.ref.type, r.counter, r.instance, r.unit, r.interval, r.samples.length])).toEqual([
      ['VirtualMachine', 'cpu.usage.average', '', 'percent', 20, 1],
      ['HostSystem', 'cpu.usage.average', '', 'percent', 20, 1],
    ]);
    // A cluster has no real-time statistics: its 5-minute ones.
    expect(latest.stdout).toMatch(/^\S+\tClusterComputeResource:\S+\tcpu\.usagemhz\.average\t\t\d+\tmegaHertz$/m);
  });

  it('--help for the command and for each command', async () => {
    const [top, call, metrics] = await Promise.all([inProcess(shared, ['--help']), inProcess(shared, ['call', '--help']), inProcess(shared, ['metrics', '--help'])]);
    expect(top).toMatchObject({ code: 0 });
    expect(top.stdout).toMatch(/Exit codes: 0 ok/);
    expect(top.stdout).toMatch(/^  metrics OBJECT\.\.\. COUNTER\.\.\./m);
    expect(call.stdout).toMatch(/^Usage: vim25-soap call METHOD OBJECT/);
    expect(metrics.stdout).toMatch(/^Usage: vim25-soap metrics OBJECT\.\.\. COUNTER\.\.\. \[--since 5m\]/);
  });
});

describe('vim25-soap (changes things: a harness of its own)', () => {
  let own: HarnessInfo;
  beforeAll(async () => {
    own = (await ownHarness()).info;
  });

  it('call --wait waits for the task; watch sees the change', async () => {
    // The watch first reports every VM as it is (enter), then the power-off (modify).
    const watch = spawn(process.execPath, [BIN, 'watch', 'VirtualMachine', 'runtime.powerState', '--json'], { env: env(own) });
    const lines: { kind: string; ref: { value: string }; props: Record<string, unknown> }[] = [];
    let wanted: (() => void) | undefined;
    let want = (_l: typeof lines) => false;
    createInterface({ input: watch.stdout }).on('line', (l) => {
      lines.push(JSON.parse(l) as (typeof lines)[number]);
      if (want(lines)) wanted?.();
    });
    const until = (f: typeof want) => new Promise<void>((resolve) => {
      want = f;
      wanted = resolve;
      if (f(lines)) resolve();
    });
    try {
      await until((l) => l.some((x) => x.kind === 'enter'));
      const off = await cli(own, ['call', 'PowerOffVM_Task', '/DC0/vm/DC0_H0_VM0', '--wait', '--json']);
      expect(off.code, off.stderr).toBe(0);
      expect(off.stdout.trim()).toBe('null'); // PowerOffVM_Task's task has no result
      await until((l) => l.some((x) => x.kind === 'modify' && x.props['runtime.powerState'] === 'poweredOff'));
    } finally {
      watch.kill('SIGINT');
    }
    const code = await new Promise<number | null>((r) => watch.once('exit', r));
    expect(code).toBe(0); // Ctrl-C is how a watch ends
  });

  it('keeps one session between commands: session save, commands without a Login, session logout', async () => {
    const dir = tempDir('vim25-cli-own-');
    const logins = async () => (await harnessStats(own)).methods.Login ?? 0;
    const before = await logins();
    const saved = await inProcess(own, ['session', 'save'], { VC_SESSION_DIR: dir });
    expect(saved.code, saved.stderr).toBe(0);
    expect(await logins()).toBe(before + 1);
    const [ls, show] = await Promise.all([inProcess(own, ['ls', '/DC0'], { VC_SESSION_DIR: dir }), inProcess(own, ['session', 'show', '--json'], { VC_SESSION_DIR: dir })]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ userName: own.username, directory: dir });
    expect(await logins()).toBe(before + 1); // adopted, not logged in again
    const out = await inProcess(own, ['session', 'logout'], { VC_SESSION_DIR: dir });
    expect(out.code, out.stderr).toBe(0);
    expect((await harnessStats(own)).methods.Logout).toBeGreaterThanOrEqual(1);
    expect((await inProcess(own, ['ls', '/DC0'], { VC_SESSION_DIR: dir })).code).toBe(0);
    expect(await logins()).toBe(before + 2); // the kept session was ended: a new one
    // --no-session: a Login of its own, and nothing kept.
    expect((await inProcess(own, ['about', '--no-session'])).code).toBe(0);
  });
});
