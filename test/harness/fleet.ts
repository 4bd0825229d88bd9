// A fleet of real child processes (test/harness/fleet-child.ts), each a VimClient with a session
// store, driven over IPC: start, put under load, stop, close, or SIGKILL.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFailed } from 'vitest';
import { isVimFault, type UserSession, type VimClient } from 'vim25-soap';
import { bundledEntry } from './child-entries.ts';
import type { ChildStart, FromChild, ToChild } from './fleet-child.ts';

const CHILD = fileURLToPath(new URL('./fleet-child.ts', import.meta.url));

/** The child, bundled once (child-entries.ts): it starts on plain node. */
function childEntry(): { file: string; execArgv: string[] } {
  return bundledEntry(CHILD);
}

export class FleetProcess {
  readonly messages: FromChild[] = [];
  readonly #child: ChildProcess;
  readonly #waiters: { match: (m: FromChild) => boolean; resolve: (m: FromChild) => void }[] = [];

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (raw) => {
      const m = raw as FromChild;
      this.messages.push(m);
      for (const w of this.#waiters.splice(0)) {
        if (w.match(m)) w.resolve(m);
        else this.#waiters.push(w);
      }
    });
  }

  static spawn(): FleetProcess {
    const { file, execArgv } = childEntry();
    return new FleetProcess(fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get pid(): number {
    return this.#child.pid!;
  }

  send(m: ToChild): void {
    this.#child.send(m);
  }

  /** The first message (already received or to come) that matches. */
  next<T extends FromChild['type']>(type: T, match: (m: Extract<FromChild, { type: T }>) => boolean = () => true): Promise<Extract<FromChild, { type: T }>> {
    return this.#wait((m) => m.type === type && match(m as Extract<FromChild, { type: T }>)) as Promise<Extract<FromChild, { type: T }>>;
  }

  #wait(ok: (m: FromChild) => boolean): Promise<FromChild> {
    const seen = this.messages.find(ok);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void => reject(new Error(`fleet process exited (${code ?? signal}) before the awaited message`));
      this.#child.once('exit', onExit);
      this.#waiters.push({ match: ok, resolve: (m) => {
        this.#child.off('exit', onExit);
        resolve(m);
      } });
    });
  }

  async start(job: ChildStart): Promise<Extract<FromChild, { type: 'ready' }>> {
    this.send({ cmd: 'start', job });
    const m = await this.#wait((x) => x.type === 'ready' || x.type === 'failed');
    if (m.type === 'failed') throw new Error(m.error);
    return m as Extract<FromChild, { type: 'ready' }>;
  }

  /** Connects without logging in (job.deferLogin); login() logs in later. */
  async connect(job: ChildStart): Promise<void> {
    this.send({ cmd: 'start', job: { ...job, deferLogin: true } });
    const m = await this.#wait((x) => x.type === 'connected' || x.type === 'failed');
    if (m.type === 'failed') throw new Error(m.error);
  }

  async login(): Promise<Extract<FromChild, { type: 'ready' }>> {
    this.send({ cmd: 'login' });
    const m = await this.#wait((x) => x.type === 'ready' || x.type === 'failed');
    if (m.type === 'failed') throw new Error(m.error);
    return m as Extract<FromChild, { type: 'ready' }>;
  }

  async stop(): Promise<Extract<FromChild, { type: 'stopped' }>> {
    this.send({ cmd: 'stop' });
    return this.next('stopped');
  }

  /**
   * Closes the client and its store; `byItself`: the client only, and the process must then exit
   * without being told to. Resolves on the process's exit with what kept its event loop alive
   * just after the client was closed (none when it exited by itself at once).
   */
  async close(byItself = false): Promise<string[]> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return [];
    const exited = new Promise((r) => this.#child.once('exit', r));
    const closed = this.next('closed');
    this.send({ cmd: 'close', byItself });
    const { keepAlive } = await closed;
    await exited;
    return keepAlive;
  }

  kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
    this.#child.kill('SIGKILL');
    return exited;
  }
}

/** The server's live sessions, read by an (administrator) client. */
export async function liveSessions(admin: VimClient): Promise<UserSession[]> {
  const r = await admin.call('RetrievePropertiesEx', admin.serviceContent.propertyCollector, {
    specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['sessionList'] }], objectSet: [{ obj: admin.serviceContent.sessionManager! }] }],
    options: {},
  });
  return (r!.objects[0]!.propSet?.[0]?.val as UserSession[] | undefined) ?? [];
}

/** Ends every session but `keep` (default: the admin's own), as an operator would from the vSphere Client. */
export async function terminateOthers(admin: VimClient, keep: readonly string[] = [admin.userSession!.key]): Promise<number> {
  const started = Date.now();
  lastTermination = `started ${new Date(started).toISOString()}, not ended`;
  const n = await terminateAll(admin, keep);
  lastTermination = `started ${new Date(started).toISOString()}, ${n} ended in ${Date.now() - started} ms`;
  return n;
}

/** The last terminateOthers, for a failed test's story. */
let lastTermination = 'none';

async function terminateAll(admin: VimClient, keep: readonly string[]): Promise<number> {
  const others = async (): Promise<string[]> => (await liveSessions(admin)).map((s) => s.key).filter((k) => !keep.includes(k));
  // All in one TerminateSession, so that no process re-logs in onto a session about to be ended.
  const keys = await others();
  if (keys.length === 0) return 0;
  try {
    await admin.sessionManager.terminateSessions(keys);
    return keys.length;
  } catch (err) {
    if (!isVimFault(err, 'NotFound')) throw err;
  }
  // It fails whole, part done, when a listed entry cannot be ended (one that ended since the list
  // was read; vcsim lists entries it then does not find): the rest one at a time.
  let ended = 0;
  for (const key of await others()) {
    try {
      await admin.sessionManager.terminateSessions([key]);
      ended++;
    } catch (err) {
      if (!isVimFault(err, 'NotFound')) throw err;
    }
  }
  return ended;
}

/** Waits until every process has made `n` more calls than it had reported. */
export async function progressed(ps: readonly FleetProcess[], n = 40): Promise<void> {
  await Promise.all(ps.map(async (p) => {
    const last = p.messages.filter((m) => m.type === 'progress').at(-1);
    const from = last?.type === 'progress' ? last.ok : 0;
    await p.next('progress', (m) => m.ok >= from + n);
  }));
}

/** The processes a test file started: spawn() them here and killAll() in afterAll, so none outlives a failed test. */
export class FleetRegistry {
  readonly #all: FleetProcess[] = [];

  /** Called in a test: if the test fails (a timeout too), what each process reported is printed. */
  spawn(n: number): FleetProcess[] {
    const ps = Array.from({ length: n }, () => FleetProcess.spawn());
    this.#all.push(...ps);
    onTestFailed(() => {
      const story = ps.map((p, i) => `fleet process ${i}: ${p.messages.filter((m) => m.type !== 'progress').map((m) => JSON.stringify(m)).join(' ')}` +
        ` (last progress: ${JSON.stringify(p.messages.filter((m) => m.type === 'progress').at(-1) ?? null)})`);
      console.error(`${story.join('\n')}\nterminateOthers: ${lastTermination}; now ${new Date().toISOString()}`);
    });
    return ps;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.#all.splice(0).map((p) => p.kill()));
  }
}
