// The SOAP wire's parts a debug log and an error answer reach: the request as logged (its own
// envelope or a pre-built one, secrets redacted) and how much of an error answer is read.
import { Readable } from 'node:stream';
import { CookieJar } from 'tough-cookie';
import { afterAll, describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { TransportError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { SoapCall } from '../../../src/soap/pipeline.ts';
import { errorText, soapWire } from '../../../src/soap/soap-wire.ts';
import { HttpTransport } from '../../../src/transport/http.ts';

const transport = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 1, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
afterAll(() => transport.close());
const wire = soapWire({ endpoint: 'https://vc.example.com/sdk', transport, version: () => '8.0.3.0', limits: {} });
const SM = { type: 'SessionManager', value: 'SessionManager' };
const call = (method: string, args: object, options: SoapCall['options'] = {}): SoapCall => ({ info: methodInfo(method)!, _this: SM, args, options });

describe('soapWire', () => {
  it('is the soap protocol', () => {
    expect(soapWire({ endpoint: 'https://vc.example.com/sdk', transport, version: () => '8.0.3.0', limits: {} }).protocol).toBe('soap');
  });

  it('redacted: the envelope it sends, without the secrets and without the WS-Security header', () => {
    const shown = wire.redacted(call('Login', { userName: 'alice', password: 'Sup3r-secret' }, { header: { security: '<token>secret-assertion</token>' } }));
    expect(shown).toContain('<vim25:Login xmlns:vim25="urn:vim25" xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>alice</userName>');
    expect(shown).not.toContain('Sup3r-secret');
    expect(shown).not.toContain('secret-assertion');
  });

  it('redacted: a pre-built envelope as it was sent, its Security header and the call\'s secrets cut out', () => {
    const body = '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><wsse:Security xmlns:wsse="x">bearer-assertion</wsse:Security></e:Header>'
      + '<e:Body><Login xmlns="urn:vim25"><userName>bob</userName><password>Pr3built-secret</password></Login></e:Body></e:Envelope>';
    const prebuilt = { url: 'https://vc.example.com/sdk', headers: {}, body, answered: () => undefined };
    const shown = wire.redacted(call('Login', { userName: 'bob', password: 'Pr3built-secret' }, { prebuilt }));
    expect(shown).toContain('<e:Body><Login xmlns="urn:vim25"><userName>bob</userName>');
    expect(shown).not.toContain('Pr3built-secret');
    expect(shown).not.toContain('bearer-assertion');
  });

  it('redacted: arguments the schema refuses are shown as data, secrets redacted', () => {
    const shown = wire.redacted(call('Login', { userName: { not: 'a string' }, password: 'Sup3r-secret' }));
    expect(JSON.parse(shown)).toEqual({ userName: { not: 'a string' }, password: '[redacted]' });
  });
});

describe('errorText', () => {
  const info = methodInfo('CurrentTime')!;

  it('the text of an error answer', async () => {
    expect(await errorText(transport, info, 503, Readable.from([Buffer.from('Service Unavailable')]))).toBe('Service Unavailable');
  });

  it('an error of the stream itself passes through as it is; only an answer too large is said to be one', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new TransportError('connection reset', { code: 'ECONNRESET' }));
      },
    });
    const err = await errorText(transport, info, 500, broken).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNRESET', message: 'connection reset' });
    const plain = new Error('not a transport error');
    const failing = new Readable({
      read() {
        this.destroy(plain);
      },
    });
    // The transport's own error for a broken answer, not an answer said to be too large.
    expect(await errorText(transport, info, 500, failing).catch((e: unknown) => e)).toMatchObject({ code: 'EOUTCOMEUNKNOWN' });
  });
});
