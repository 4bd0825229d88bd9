// Hostile and broken VI/JSON answers from our own small server (test/harness/hostile-server.ts):
// the JSON decoder has the XML one's bounds — size, depth, values, strings, event-loop turns,
// error answers read no further than one can legitimately be — and what is no answer is a typed
// TransportError, never a hang, a crash or a value. Counts and codes only: no wall-clock bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportError, VimClient } from 'vim25-soap';
import { streamed, type Answer } from '../harness/hostile-server.ts';
import { ownVimServer, SI } from '../fixtures.ts';

const MiB = 1024 * 1024;
const vimServer = ownVimServer();
let client: VimClient;

beforeAll(async () => {
  const server = vimServer();
  client = await VimClient.connect(server.url, { tls: { ca: server.cert }, protocol: 'json', maxResponseElements: 200_000, maxResponseBytes: 64 * MiB });
  await client.login({ username: 'root', password: 'the-Passw0rd' });
});
afterAll(() => client?.close());

const json = (body: string, status = 200): Answer => ({ status, headers: { 'Content-Type': 'application/json' }, body });
const jsonStream = (head: string, unit: string, total: number, tail = ''): Answer => streamed(head, unit, total, tail, { 'Content-Type': 'application/json' });

async function failure(answer: Answer): Promise<TransportError> {
  vimServer().answers.set('json:CurrentTime', answer);
  const err = await client.call('CurrentTime', SI).then(() => undefined, (e: unknown) => e);
  vimServer().answers.delete('json:CurrentTime');
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

describe('VI/JSON answers the decoder refuses, each with its code', () => {
  it('speaks VI/JSON to this server, and the session is the header the Login answer carried', async () => {
    expect(client.protocol).toBe('json');
    expect(await client.call('CurrentTime', SI)).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(vimServer().requests.at(-1)).toMatchObject({ method: 'json:CurrentTime', cookie: client.sessionId });
  });

  it.each([
    ['100 000 nested arrays', json(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 'ERESPONSELIMIT'],
    ['100 000 nested objects', json(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`), 'ERESPONSELIMIT'],
    ['more values than maxResponseElements (8 MiB of small objects)', jsonStream('[', '{"a":1,"b":"x"},', 8 * MiB, '{}]'), 'ERESPONSELIMIT'],
    ['more bytes than maxResponseBytes (80 strings of 1 MiB)', jsonStream('[', `"${'x'.repeat(MiB)}",`, 80 * MiB, '""]'), 'ERESPONSETOOLARGE'],
    ['one string of 24 MiB', jsonStream('"', 'x', 24 * MiB, '"'), 'ERESPONSELIMIT'],
    ['a number of 10 000 digits', json('9'.repeat(10_000)), 'ERESPONSELIMIT'],
    ['an empty 200', json(''), 'EBADJSON'],
    ['a truncated document', json('"2026-01-01T00:00'), 'EBADJSON'],
    ['plain text as JSON', json('hello, I am not JSON'), 'EBADJSON'],
    ['an HTML 200 page', { headers: { 'Content-Type': 'text/html' }, body: '<html><body>Login</body></html>' }, 'EBADJSON'],
    ['a 502 HTML page', { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html>Bad Gateway</html>' }, 'HTTP_502'],
    ['a 500 JSON body that is no fault', json('{"error":"internal"}', 500), 'HTTP_500'],
  ])('%s', async (_what, answer, code) => {
    const err = await failure(answer);
    expect(err.code).toBe(code);
    expect(await client.call('CurrentTime', SI)).toBeInstanceOf(Date); // the client goes on
  });

  it('an error answer is read no further than 1 MiB, however long the server goes on', async () => {
    vimServer().answers.set('json:CurrentTime', {
      write: (res) => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        const block = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < 32 * MiB && !res.destroyed) {
            sent += block.length;
            if (!res.write(block)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (sent = Infinity));
        pump();
      },
    });
    const err = await client.call('CurrentTime', SI).then(() => undefined, (e: unknown) => e);
    vimServer().answers.delete('json:CurrentTime');
    expect(err).toMatchObject({ code: 'HTTP_500' });
    expect((err as Error).message).toMatch(/over 1048576 bytes, not read/);
  });

  it('a JSON fault on HTTP 500 is the VimFault it names, with its fields', async () => {
    vimServer().answers.set('json:CurrentTime', json(JSON.stringify({ _typeName: 'NotAuthenticated', faultstring: 'The session is not authenticated.', object: { _typeName: 'ManagedObjectReference', type: 'ServiceInstance', value: 'ServiceInstance' }, privilegeId: 'System.View' }), 500));
    const err = await client.call('CurrentTime', SI).catch((e: unknown) => e);
    // NotAuthenticated re-authenticates once (the hostile server's Login), then the same answer stands.
    expect(err).toMatchObject({ name: 'VimFault', fault: { _typeName: 'NotAuthenticated', privilegeId: 'System.View' } });
  });
});
