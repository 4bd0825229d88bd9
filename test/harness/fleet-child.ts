// One process of a test fleet (started by test/harness/fleet.ts with fork): connects with the
// session store the parent describes, logs in, then runs calls on command and reports over IPC.
// Never prints a secret: it reports a short digest of its session id, not the id.
import { createHash } from 'node:crypto';
import { FileSessionStore, MemorySessionStore, VimClient, type Logger, type SessionStore } from 'vim25-soap';

export type StoreSpec =
  | { kind: 'none' }
  | { kind: 'memory'; timing?: Record<string, number> }
  | { kind: 'file'; dir: string; timing?: Record<string, number> }
  | { kind: 'redis'; url: string; prefix: string; ttlSeconds?: number; encryptionKey?: string; timing?: Record<string, number> };

export interface ChildStart {
  url: string;
  ca: string;
  username: string;
  password: string;
  store: StoreSpec;
  broker?: { url: string; token: string };
  /** Connect only; log in on { cmd: 'login' }. */
  deferLogin?: boolean;
}

/**
 * close: the client, then the store, then the process exits. With `byItself`, only the client is
 * closed and nothing forces the exit: the process must end because nothing keeps it alive.
 */
export type ToChild = { cmd: 'start'; job: ChildStart } | { cmd: 'login' } | { cmd: 'load'; concurrency: number } | { cmd: 'stop' } | { cmd: 'close'; byItself?: boolean };
export type FromChild =
  | { type: 'connected' }
  | { type: 'ready'; session: string; ms: number }
  | { type: 'failed'; error: string }
  | { type: 'reauthenticated'; session: string }
  | { type: 'progress'; ok: number }
  | { type: 'stopped'; ok: number; failed: number; errors: string[] }
  | { type: 'log'; level: string; message: string }
  | { type: 'closed'; keepAlive: string[] };

const SI = { type: 'ServiceInstance' as const, value: 'ServiceInstance' };
const digest = (id: string | undefined): string => (id ? createHash('sha256').update(id).digest('hex').slice(0, 12) : 'none');
const send = (m: FromChild): void => void process.send!(m);

/** Forwards the store's warnings and notices (never with data: it could only hold error names). */
const logger: Logger = {
  debug: () => {},
  info: (message) => send({ type: 'log', level: 'info', message }),
  warn: (message) => send({ type: 'log', level: 'warn', message }),
  error: (message) => send({ type: 'log', level: 'error', message }),
};

async function makeStore(spec: StoreSpec): Promise<{ store: SessionStore | undefined; close: () => Promise<void> }> {
  switch (spec.kind) {
    case 'none':
      return { store: undefined, close: async () => {} };
    case 'memory':
      return { store: new MemorySessionStore(spec.timing), close: async () => {} };
    case 'file':
      return { store: new FileSessionStore({ dir: spec.dir, ...spec.timing }), close: async () => {} };
    case 'redis': {
      const { RedisSessionStore } = await import('vim25-soap/redis');
      const store = new RedisSessionStore({ url: spec.url, prefix: spec.prefix, ttlSeconds: spec.ttlSeconds, encryptionKey: spec.encryptionKey, logger, ...spec.timing });
      return { store, close: () => store.close() };
    }
  }
}

let client: VimClient | undefined;
let job: ChildStart | undefined;

async function login(started: number): Promise<void> {
  try {
    if (job!.broker) await client!.loginByBroker(job!.broker);
    else await client!.login({ username: job!.username, password: job!.password });
    send({ type: 'ready', session: digest(client!.sessionId), ms: Date.now() - started });
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
}
let closeStore: () => Promise<void> = async () => {};
let running = false;
let ok = 0;
let failed = 0;
const errors: string[] = [];
let loops: Promise<void>[] = [];

let exitByItself = false;
// A parent that went away (a test run killed or timed out) leaves no process behind calling in a loop.
process.on('disconnect', () => {
  if (!exitByItself) process.exit(0);
});

process.on('message', (raw) => {
  const m = raw as ToChild;
  void (async () => {
    if (m.cmd === 'start') {
      const started = Date.now();
      job = m.job;
      try {
        const { store, close } = await makeStore(m.job.store);
        closeStore = close;
        // Node's own HTTP stack for good: under load an 'auto' client switches to undici, and each
        // process loading it and V8 optimizing llhttp cost ~0.2 s of CPU, a fifth of a member's
        // whole run. The stores are what these processes test; both stacks have their own tests.
        // The wire the parent runs its tests on (the 'json' project sets it: json-default.ts).
        const protocol = process.env.VIM25_TEST_PROTOCOL === 'json' ? 'json' : 'soap';
        client = await VimClient.connect(m.job.url, { tls: { ca: m.job.ca }, http: 'https', logger, protocol, ...(store && { sessionStore: store }) });
        client.on('reauthenticated', () => send({ type: 'reauthenticated', session: digest(client!.sessionId) }));
      } catch (err) {
        send({ type: 'failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        return;
      }
      if (m.job.deferLogin) send({ type: 'connected' });
      else await login(started);
    } else if (m.cmd === 'login') {
      await login(Date.now());
    } else if (m.cmd === 'load') {
      running = true;
      loops = Array.from({ length: m.concurrency }, async () => {
        while (running) {
          try {
            await client!.call('CurrentTime', SI);
            ok++;
            if (ok % 20 === 0) send({ type: 'progress', ok });
          } catch (err) {
            failed++;
            if (errors.length < 5) errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
          }
        }
      });
    } else if (m.cmd === 'stop') {
      running = false;
      await Promise.all(loops);
      send({ type: 'stopped', ok, failed, errors });
    } else if (m.cmd === 'close') {
      await client?.close();
      if (!m.byItself) await closeStore();
      exitByItself = m.byItself === true;
      // What still keeps the event loop alive once the client is closed and the sockets it closed
      // are gone (a turn of the event loop), but for the IPC channel this message goes out on
      // (disconnected next).
      await new Promise((r) => setImmediate(r));
      send({ type: 'closed', keepAlive: process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap') });
      process.disconnect();
    }
  })();
});
