// The two engines and the differential check that holds them equal (issue 9). The check itself
// must be able to fail: a secondary engine that writes other bytes, or decodes to another
// value, is caught and reported without showing values.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { VimClient, isVimFault } from '../../src/index.ts';
import type { DecodedResponse } from '../../src/binding/decode.ts';
import { DirectEngine } from '../../src/soap/direct-engine.ts';
import type { SoapCall } from '../../src/soap/engine.ts';
import { SoapInvoker } from '../../src/soap/invoke.ts';
import { HttpTransport } from '../../src/transport/http.ts';
import { silentLogger } from '../../src/logger.ts';
import { CookieJar } from 'tough-cookie';
import { differential, DifferentialEngine, firstDifference } from '../harness/differential-engine.ts';
import { harnessReset } from '../harness/vcsim.ts';

const h = inject('harness');
const tls = { ca: readFileSync(h.certFile) };
const SI = { type: 'ServiceInstance', value: 'ServiceInstance' };

function transport(): HttpTransport {
  return new HttpTransport({ tls, jar: new CookieJar(), logger: silentLogger, timeoutMs: 10_000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 5_000, userAgent: 'test' });
}

/** Runs `call` through a DifferentialEngine and hands back the mismatches it recorded (removed from the file's list). */
async function mismatchesOf(secondary: (endpoint: string, t: HttpTransport) => DirectEngine): Promise<string[]> {
  const t = transport();
  const before = differential.mismatches.length;
  try {
    const engine = new DifferentialEngine((e, tr) => new DirectEngine(e, tr), secondary, h.url, t);
    await new SoapInvoker(engine, h.apiVersion, silentLogger).invoke('RetrieveServiceContent', SI, {});
  } finally {
    t.close();
  }
  return differential.mismatches.splice(before);
}

describe('engines', () => {
  afterEach(() => harnessReset(h));

  it.each(['direct', 'node-soap'] as const)('the %s engine logs in, reads, and reports faults, and every call was compared', async (engine) => {
    const compared = differential.compared;
    const c = await VimClient.connect(h.url, { tls, engine });
    try {
      const err = await c.login({ username: h.username, password: 'wrong' }).catch((e: unknown) => e);
      expect(isVimFault(err, 'InvalidLogin')).toBe(true);
      await c.login({ username: h.username, password: h.password });
      expect(await c.call('CurrentTime', c.ref('ServiceInstance', 'ServiceInstance'))).toBeInstanceOf(Date);
    } finally {
      await c.close();
    }
    // RetrieveServiceContent, Login (refused), Login, CurrentTime, Logout.
    expect(differential.compared - compared).toBe(5);
    expect(differential.mismatches).toEqual([]);
  });

  it('catches a secondary engine that puts other bytes on the wire', async () => {
    class Spaced extends DirectEngine {
      override exchange(call: SoapCall): Promise<DecodedResponse> {
        return super.exchange({ ...call, body: `${call.body} ` });
      }
    }
    const found = await mismatchesOf((e, t) => new Spaced(e, t));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^RetrieveServiceContent: requests\.0\.body at character \d+ /);
  });

  it('catches a secondary engine that decodes to another value, without showing values', async () => {
    class Forgetful extends DirectEngine {
      override async exchange(call: SoapCall): Promise<DecodedResponse> {
        const r = await super.exchange(call);
        if (r.kind === 'result') delete (r.value as { about: { instanceUuid?: string } }).about.instanceUuid;
        return r;
      }
    }
    const found = await mismatchesOf((e, t) => new Forgetful(e, t));
    expect(found).toEqual(['RetrieveServiceContent: answer.value.about.instanceUuid (string vs undefined)']);
    expect(found[0]).not.toContain(h.instanceUuid);
  });

  it('names the first difference by path', () => {
    expect(firstDifference({ a: [1, { b: 'xy' }] }, { a: [1, { b: 'xz' }] })).toBe('$.a.1.b at character 1 (lengths 2, 2)');
    expect(firstDifference(new Date(0), new Date(0))).toBeUndefined();
    expect(firstDifference(1n, 2n)).toBe('$ (bigint vs bigint)');
  });
});
