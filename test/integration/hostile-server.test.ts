// A hostile or broken server, played by a small vim25 server of our own on 127.0.0.1
// (test/harness/hostile-server.ts): every answer must end in a typed error or a correct value,
// in time (parsing is linear, so timeoutMs and signals fire), with the event loop free and
// memory bounded by the client's limits, and nothing of the client's may be taken. Time is
// measured in CPU time and in turns of the event loop (test/harness/cpu-clock.ts), which a busy
// machine does not stretch.
import { readFileSync, writeFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalTicketError, TransportError, VimClient, type ConnectOptions } from 'vim25-soap';
import { ENV, startHostileServer, streamed, type Answer, type HostileServer } from '../harness/hostile-server.ts';
import { collectGarbage, countLoopTurns, cpuMs, watchLoopHold } from '../harness/cpu-clock.ts';
import { SI } from '../fixtures.ts';

const MiB = 1024 * 1024;
let server: HostileServer;
let client: VimClient;

beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.answers.clear();
});

interface Measured {
  value: unknown;
  error: unknown;
  /** CPU time spent while it ran (this file's server, in the same process, included). */
  cpuMs: number;
  /** The longest the event loop was held while it ran, in CPU time. */
  holdCpuMs: number;
  peakRssMiB: number;
}

/**
 * The process's peak RSS since the last call, in bytes: Linux's high-water mark (VmHWM), reset by
 * writing 5 to /proc/self/clear_refs, so no peak between two samples is missed. Elsewhere, or where
 * /proc is read-only, a 5 ms sampler stands in.
 */
function peakRssWatch(): () => number {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
  } catch {
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    return () => {
      clearInterval(sampler);
      return Math.max(peak, process.memoryUsage.rss());
    };
  }
}

/** Runs `work`, measuring its CPU time, the longest the event loop was held and the process's peak RSS. */
async function measure(work: () => Promise<unknown>): Promise<Measured> {
  const peakRss = peakRssWatch();
  const hold = watchLoopHold();
  const started = cpuMs();
  let value: unknown;
  let error: unknown;
  try {
    value = await work();
  } catch (err) {
    error = err;
  }
  const spent = cpuMs() - started;
  return { value, error, cpuMs: spent, holdCpuMs: hold(), peakRssMiB: peakRss() / MiB };
}

function answerWith(method: string, answer: Answer): void {
  server.answers.set(method, answer);
}

/** The client still works after the hostile answer (nothing left broken). */
async function stillWorks(): Promise<void> {
  server.answers.clear();
  expect(await client.call('CurrentTime', SI)).toBeInstanceOf(Date);
}

function expectTransportError(m: Measured, code: string): TransportError {
  expect(m.error, `expected ${code}, got ${String(m.error)}`).toBeInstanceOf(TransportError);
  expect((m.error as TransportError).code).toBe(code);
  return m.error as TransportError;
}

// Both bounds are in CPU time, which a busy machine does not stretch as it does elapsed time and
// the event loop's delay (1.0-1.7 s of delay where 1 s was the bound, issue 32). They are far
// above what linear reading costs and far below what the quadratic reading of these answers
// took (17 s to 51 s of a blocked event loop): on the 2-core machine a case here costs under
// 0.2 s of CPU in all (the default limit's flood, which has no such bound, under 0.8 s) and
// holds the loop for under 0.1 s of it at once.
const QUICK_CPU_MS = 1_000;
const HOLD_MAX_CPU_MS = 500;

const OPEN = `${ENV('').replace('</soapenv:Body></soapenv:Envelope>', '')}<AcquireCloneTicketResponse xmlns="urn:vim25"><returnval>`;
const CLOSE = '</returnval></AcquireCloneTicketResponse></soapenv:Body></soapenv:Envelope>';

const DOCUMENT_CASES: [string, Answer, string][] = [
  ['an XXE payload', { body: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>&xxe;</returnval></CurrentTimeResponse>').replace(/^<\?xml[^>]*\?>/, '')}` }, 'EDOCTYPE'],
  ['entity expansion (billion laughs)', { body: '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>' }, 'EDOCTYPE'],
  ['a 502 HTML page', { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }, 'HTTP_502'],
  ['a 504 HTML page', { status: 504, headers: { 'Content-Type': 'text/html' }, body: '<html><body>Gateway Timeout</body></html>' }, 'HTTP_504'],
  ['an empty 200', { body: '' }, 'EBADXML'],
  ['a truncated document', { body: ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024-01-01T00:00:00Z</returnval></CurrentTimeResponse>').slice(0, 120) }, 'EBADXML'],
  ['plain text', { headers: { 'Content-Type': 'text/plain' }, body: 'hello, I am not SOAP' }, 'EBADXML'],
  ['an HTML 200 page', { headers: { 'Content-Type': 'text/html' }, body: '<html><body>Login</body></html>' }, 'ENOTSOAP'],
  ['a 500 without a SOAP fault', { status: 500, headers: { 'Content-Type': 'text/html' }, body: '<html>Internal error</html>' }, 'HTTP_500'],
  ['a redirect elsewhere (not followed)', { status: 302, headers: { Location: 'https://elsewhere.example/sdk' }, body: '' }, 'HTTP_302'],
];

/** A client of the hostile server, logged in, closed after the enclosing describe. */
function clientFor(options: ConnectOptions): void {
  beforeAll(async () => {
    // Only a safety net: the answers that must end in time assert it themselves (QUICK_CPU_MS); the
    // memory cases decode megabytes before their limit, which on a machine busy with the rest of
    // the suite took longer than 10 s.
    client = await VimClient.connect(server.url, { tls: { ca: server.cert }, timeoutMs: 60_000, ...options });
    await client.login({ username: 'root', password: 'the-Passw0rd' });
  });
  afterAll(async () => {
    await client?.close();
  });
}

/** Floods of elements inside maxResponseBytes, each written as the socket drains. */
const FLOODS: [string, Answer][] = [
  ['238 MiB of empty elements', streamed(OPEN, '<a/>', 238 * MiB, CLOSE)],
  ['238 MiB of small objects', streamed(OPEN, '<a><b>x</b><c>y</c></a>', 238 * MiB, CLOSE)],
];

// The default element limit (2 000 000) against the flood that costs the most memory per element,
// with the default options (a new client sends on Node's HTTP stack): ~1.3 s of decoding alone on
// the 2-core machine, so once.
describe('the default element limit', () => {
  clientFor({});

  it('238 MiB of small objects: refused at 2 000 000 elements, the process stays under 600 MB', async () => {
    answerWith('AcquireCloneTicket', FLOODS[1]![1]);
    const m = await measure(() => client.acquireCloneTicket());
    expect(expectTransportError(m, 'ERESPONSELIMIT').message).toMatch(/more than 2000000 elements/);
    expect(m.peakRssMiB).toBeLessThan(600);
    expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
    await stillWorks();
  });
});

// Every case on both HTTP stacks: each delivers the body its own way, the limits must hold on both.
// The floods run against a tenth of the default element limit: enough to show that reading is
// bounded by it, at a tenth of the decoding.
describe.each([['https'], ['undici']] as const)('over %s', (http) => {
  clientFor({ http, maxResponseElements: 200_000 });

  describe('answers that were quadratic to read', () => {
    it.each([
      ['a <namespace> repeated and never closed (2.2 MB)', `<?xml version="1.0"?><namespaces>${'<namespace><name>urn:vim25</name><version>1</version>'.repeat(40_000)}`],
      ['a <priorVersions> never closed (1.5 MB)', `<?xml version="1.0"?><namespaces><namespace><name>urn:vim25</name><version>8.0.3.0</version>${'<priorVersions><version>1</version>'.repeat(42_000)}`],
    ])('vimServiceVersions.xml with %s: connect still works, on about.apiVersion', async (_what, body) => {
      expect(body.length).toBeGreaterThan(1.4 * MiB);
      answerWith('versions', { body });
      const m = await measure(async () => {
        const c = await VimClient.connect(server.url, { tls: { ca: server.cert }, timeoutMs: 5_000, http });
        await c.close();
        return c.apiVersion;
      });
      expect(m.error).toBeUndefined();
      expect(m.value).toBe('8.0.3.0');
      expect(m.cpuMs).toBeLessThan(QUICK_CPU_MS);
      expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
    });

    it('one start tag with a 200 KB attribute-like run: EBADXML at once', async () => {
      answerWith('CurrentTime', { body: ENV(`<CurrentTimeResponse xmlns="urn:vim25"><returnval ${'a'.repeat(200_000)}=x>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse>`) });
      const m = await measure(() => client.call('CurrentTime', SI));
      expectTransportError(m, 'EBADXML');
      expect(m.cpuMs).toBeLessThan(QUICK_CPU_MS);
      expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
      await stillWorks();
    });

    it.each([[8], [64]])('a %i MB attribute value: refused once past the markup limit (1 MiB), not read to its end', async (mb) => {
      answerWith('CurrentTime', streamed(`${ENV('').replace('</soapenv:Body></soapenv:Envelope>', '')}<CurrentTimeResponse xmlns="urn:vim25"><returnval a="`, 'x', mb * MiB, '">2026-01-01T00:00:00Z</returnval></CurrentTimeResponse></soapenv:Body></soapenv:Envelope>'));
      const m = await measure(() => client.call('CurrentTime', SI));
      expect(expectTransportError(m, 'ERESPONSELIMIT').message).toMatch(/markup/);
      expect(m.cpuMs).toBeLessThan(QUICK_CPU_MS);
      expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
      await stillWorks();
    });

    it('8 MB of text: read whole, in linear time, the event loop turning as it is read', async () => {
      const read = async (mib: number): Promise<Measured & { turns: number }> => {
        const text = 'x'.repeat(mib * MiB);
        answerWith('AcquireCloneTicket', { body: ENV(`<AcquireCloneTicketResponse xmlns="urn:vim25"><returnval>${text}</returnval></AcquireCloneTicketResponse>`) });
        collectGarbage();
        const turns = countLoopTurns();
        const m = await measure(() => client.acquireCloneTicket());
        const counted = turns();
        expect(m.error).toBeUndefined();
        expect((m.value as string).length).toBe(text.length);
        return { ...m, turns: counted };
      };
      // Linear reading costs at most about 8 times the CPU for 8 times the text (3.5-9.5 times on
      // the 2-core machine, each read having a fixed cost too); the quadratic reading, put back on
      // purpose (text held until its end tag and searched again with each chunk), 48-58 times.
      // The cheapest of a few reads of each, after reads that warm up the code and the connection.
      await read(1);
      await read(8);
      const one = Math.min((await read(1)).cpuMs, (await read(1)).cpuMs, (await read(1)).cpuMs);
      const eight = await read(8);
      expect(Math.min(eight.cpuMs, (await read(8)).cpuMs) / one).toBeLessThan(24);
      expect(eight.cpuMs).toBeLessThan(QUICK_CPU_MS);
      expect(eight.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
      // The decoder lets the loop turn after each 256 KiB it decodes, however much the socket
      // hands it at once, busy machine or not: 33-41 turns for these 8 MiB on the 2-core
      // machine, and by construction at least one per ~400 KiB (a slice runs past 256 KiB by at
      // most one chunk, and a paused body buffers far less than a slice). A decoder that did not
      // yield, tried on purpose, read them in 8-11 turns: as much as the socket gave at once.
      expect(eight.turns).toBeGreaterThanOrEqual(16);
    });
  });

  describe('answers that exhausted memory', () => {
    it.each(FLOODS)('%s (under maxResponseBytes): refused at the element limit, the process stays under 600 MB', async (_what, flood) => {
      answerWith('AcquireCloneTicket', flood);
      const m = await measure(() => client.acquireCloneTicket());
      expect(expectTransportError(m, 'ERESPONSELIMIT').message).toMatch(/more than 200000 elements/);
      expect(m.peakRssMiB).toBeLessThan(600);
      expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
      await stillWorks();
    });

    it('2 MB of gzip that inflates to 2 GB: refused at the element limit, bounded memory', async () => {
      // Compressed once, then sent as 2048 gzip members of 1 MiB each (a gzip stream may hold
      // several, RFC 1952): compressing 2 GB as the socket drains would cost the server seconds of
      // CPU for data the client never reads.
      const gz = (data: string): Buffer => zlib.gzipSync(data, { level: 9 });
      const member = gz('<a/>'.repeat(MiB / 4));
      answerWith('AcquireCloneTicket', {
        write: (res) => {
          res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Encoding': 'gzip' });
          let gone = false;
          res.on('close', () => (gone = true));
          res.write(gz(OPEN));
          let n = 0;
          const pump = (): void => {
            while (!gone && n < 2048) {
              n++;
              if (!res.write(member)) {
                res.once('drain', pump);
                return;
              }
            }
            if (!gone) res.end(gz(CLOSE));
          };
          pump();
        },
      });
      expect(member.length * 2048).toBeLessThan(2.5 * MiB);
      const m = await measure(() => client.acquireCloneTicket());
      expectTransportError(m, 'ERESPONSELIMIT');
      expect(m.peakRssMiB).toBeLessThan(600);
      expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
      await stillWorks();
    });

    it('1 000 000 nested elements: refused at the depth limit', async () => {
      answerWith('AcquireCloneTicket', { body: `${OPEN}${'<a>'.repeat(1_000_000)}${'</a>'.repeat(1_000_000)}${CLOSE}` });
      const m = await measure(() => client.acquireCloneTicket());
      expect(expectTransportError(m, 'ERESPONSELIMIT').message).toMatch(/deeper/);
      expect(m.holdCpuMs).toBeLessThan(HOLD_MAX_CPU_MS);
      await stillWorks();
    });

    it('a 5 MB error answer is not read whole', async () => {
      answerWith('CurrentTime', { status: 500, body: `<html>${'x'.repeat(5 * MiB)}</html>` });
      const m = await measure(() => client.call('CurrentTime', SI));
      expect(expectTransportError(m, 'HTTP_500').status).toBe(500);
      await stillWorks();
    });
  });

  describe('a server that names a file as the local ticket', () => {
    it.each(['/etc/passwd', '/proc/self/environ', '/var/run/vmware-hostd-ticket/../../../etc/shadow'])('%s: LocalTicketError, nothing read, no Login sent', async (path) => {
      answerWith('AcquireLocalTicket', { body: ENV(`<AcquireLocalTicketResponse xmlns="urn:vim25"><returnval><userName>root</userName><passwordFilePath>${path}</passwordFilePath></returnval></AcquireLocalTicketResponse>`) });
      const before = server.requests.length;
      const err = await client.loginByLocalTicket('root').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LocalTicketError);
      expect((err as LocalTicketError).reason).toBe('outsideTicketDirectory');
      const sent = server.requests.slice(before);
      expect(sent.map((r) => r.method)).toEqual(['AcquireLocalTicket']);
      // The working session was left alone.
      await stillWorks();
    });
  });

  describe('broken and malicious documents', () => {
    it.each(DOCUMENT_CASES)('%s -> TransportError', async (_what, answer, code) => {
      answerWith('CurrentTime', answer);
      const before = server.requests.length;
      const err = expectTransportError(await measure(() => client.call('CurrentTime', SI)), code);
      expect(err.message).not.toMatch(/root:x:0:0/);
      if ('status' in answer && answer.status) expect(err.status).toBe(answer.status);
      if (code === 'ENOTSOAP') expect(err.message).toMatch(/CurrentTime: the HTTP 200 answer is not SOAP/);
      expect(server.requests.length - before).toBe(1);
      await stillWorks();
    });
  });

  describe('cut and slow answers', () => {
    it('a body cut off mid-answer: EOUTCOMEUNKNOWN, as a connection lost before the answer', async () => {
      answerWith('AcquireCloneTicket', {
        write: (res) => {
          res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': '5000' });
          res.write(OPEN);
          setImmediate(() => res.socket?.destroy());
        },
      });
      const cut = expectTransportError(await measure(() => client.acquireCloneTicket()), 'EOUTCOMEUNKNOWN');
      expect(cut.outcomeUnknown).toBe(true);
      answerWith('AcquireCloneTicket', { write: (_res, req) => req.socket.destroy() });
      const lost = expectTransportError(await measure(() => client.acquireCloneTicket()), 'EOUTCOMEUNKNOWN');
      expect(lost.outcomeUnknown).toBe(true);
      await stillWorks();
    });

    it('a body that stalls: ETIMEDOUT at the deadline', async () => {
      const c = await VimClient.connect(server.url, { tls: { ca: server.cert }, timeoutMs: 800, http });
      let rest: NodeJS.Timeout | undefined;
      try {
        // The rest of the answer comes a quarter past the deadline. Both timers are this
        // process's, the client's armed first, and the loop runs due timers in the order they
        // fall due, however late it gets to them: only a deadline that leaves the body out, or
        // one that runs a quarter late or more, lets the answer through.
        const answer = ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse>');
        answerWith('CurrentTime', {
          write: (res) => {
            res.writeHead(200, { 'Content-Type': 'text/xml' });
            res.write(answer.slice(0, 100));
            rest = setTimeout(() => res.end(answer.slice(100)), 1_000);
          },
        });
        const started = performance.now();
        const m = await measure(() => c.call('CurrentTime', SI));
        expectTransportError(m, 'ETIMEDOUT');
        // Not before it either (a timer never fires early, so a busy machine cannot fail this).
        expect(performance.now() - started).toBeGreaterThanOrEqual(700);
      } finally {
        clearTimeout(rest);
        server.answers.clear();
        await c.close();
      }
    });
  });

  describe('cookies', () => {
    it('stores only cookies for the server itself, and sends back only those', async () => {
      const c = await VimClient.connect(server.url, { tls: { ca: server.cert }, http });
      try {
        answerWith('Login', {
          headers: { 'Set-Cookie': ['vmware_soap_session="fresh-one"; Path=/; Secure', 'evil=1; Domain=evil.example; Path=/', 'tracker=2; Domain=.example; Path=/'] },
          body: ENV('<LoginResponse xmlns="urn:vim25"><returnval><key>k</key><userName>root</userName><fullName>root</fullName><loginTime>2026-01-01T00:00:00Z</loginTime><lastActiveTime>2026-01-01T00:00:00Z</lastActiveTime><locale>en</locale><messageLocale>en</messageLocale><extensionSession>false</extensionSession><ipAddress>127.0.0.1</ipAddress><userAgent>x</userAgent><callCount>0</callCount></returnval></LoginResponse>'),
        });
        await c.login({ username: 'root', password: 'x' });
        server.answers.clear();
        const before = server.requests.length;
        await c.call('CurrentTime', SI);
        expect(server.requests[before]?.cookie).toBe('vmware_soap_session="fresh-one"');
        expect(c.sessionId).toBe('fresh-one');
      } finally {
        await c.close();
      }
    });
  });
});
