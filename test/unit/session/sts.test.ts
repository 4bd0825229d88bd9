// issueToken against a small local HTTP server playing the STS: the WS-Trust request it sends
// (bearer and holder-of-key), the assertion it cuts out of the answer as issued, and how it fails.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { SignedXml } from 'xml-crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { issueToken, issueTokenFromServer, TokenError } from '../../../src/session/token.ts';
import type { HttpTransport } from '../../../src/transport/http.ts';
import { serveLocally, sessionTransport } from '../local-server.ts';
import { extensionCertificate } from '../../harness/tls-fixtures.ts';

type Seen = { url: string; body: string; headers: IncomingMessage['headers'] };
let handler: (req: IncomingMessage, res: ServerResponse) => void;
let seen: Seen[] = [];
const server = http.createServer((req, res) => {
  const s: Seen = { url: req.url!, body: '', headers: req.headers };
  seen.push(s);
  req.on('data', (c: Buffer) => (s.body += c));
  req.on('end', () => handler(req, res));
});
const base = serveLocally(server);

const ASSERTION = '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">'
  + '<saml2:Issuer>sts</saml2:Issuer><saml2:Assertion ID="_inner"/></saml2:Assertion>';
const rstr = (assertion: string) => '<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>'
  + '<wst:RequestSecurityTokenResponseCollection xmlns:wst="http://docs.oasis-open.org/ws-sx/ws-trust/200512"><wst:RequestSecurityTokenResponse>'
  + `<wst:RequestedSecurityToken>${assertion}</wst:RequestedSecurityToken></wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection></S:Body></S:Envelope>`;
const fault = (text: string) => '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault>'
  + `<faultcode>S:Client</faultcode><faultstring>${text}</faultstring></S:Fault></S:Body></S:Envelope>`;
const answer = (status: number, body: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(body);
};

beforeEach(() => {
  seen = [];
  handler = answer(200, rstr(ASSERTION));
});

const transport = (): HttpTransport => sessionTransport(base(), 'client-session');

const between = (xml: string, open: string, close: string) => {
  const i = xml.indexOf(open);
  return i < 0 ? undefined : xml.slice(i + open.length, xml.indexOf(close, i + open.length));
};

describe('issueToken, bearer', () => {
  it('posts a WS-Trust Issue with the user name token, without cookies, and returns the assertion as issued', async () => {
    const token = await issueToken(transport(), { stsUrl: `${base()}/sts/STSService/vsphere.local`, username: 'a<b>&"c', password: "p'&<" });
    expect(token).toEqual({ assertion: ASSERTION });
    expect(seen).toHaveLength(1);
    const [s] = seen;
    expect(s!.url).toBe('/sts/STSService/vsphere.local');
    expect(s!.headers.soapaction).toBe('http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue');
    expect(s!.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(s!.headers.cookie).toBeUndefined();
    expect(s!.body).toContain('<wsse:UsernameToken><wsse:Username>a&lt;b&gt;&amp;"c</wsse:Username><wsse:Password>p\'&amp;&lt;</wsse:Password></wsse:UsernameToken>');
    expect(between(s!.body, '<wst:KeyType>', '</wst:KeyType>')).toBe('http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer');
    expect(s!.body).toContain('<wst:TokenType>urn:oasis:names:tc:SAML:2.0:assertion</wst:TokenType>');
    expect(s!.body).toContain('<wst:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</wst:RequestType>');
    expect(s!.body).not.toContain('BinarySecurityToken');
    expect(s!.body).not.toContain('<ds:Signature');
  });

  it('asks for the lifetime given, 600 s by default; the request\'s own Timestamp lasts 300 s', async () => {
    const lifetimes: number[] = [];
    for (const lifetimeSeconds of [undefined, 3600]) {
      seen = [];
      await issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p', ...(lifetimeSeconds !== undefined && { lifetimeSeconds }) });
      const lifetime = between(seen[0]!.body, '<wst:Lifetime>', '</wst:Lifetime>')!;
      const created = Date.parse(between(lifetime, '<wsu:Created>', '<')!);
      lifetimes.push((Date.parse(between(lifetime, '<wsu:Expires>', '<')!) - created) / 1000);
      const ts = between(seen[0]!.body, '<wsu:Timestamp', '</wsu:Timestamp>')!;
      expect((Date.parse(between(ts, '<wsu:Expires>', '<')!) - Date.parse(between(ts, '<wsu:Created>', '<')!)) / 1000).toBe(300);
    }
    expect(lifetimes).toEqual([600, 3600]);
  });

  it('a fault answer is a TransportError with the status and the fault string (cut at 500 characters)', async () => {
    handler = answer(500, fault('Authentication failed'));
    const err = await issueToken(transport(), { stsUrl: base(), username: 'u', password: 'secret-pw' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 500, code: 'HTTP_500', message: 'STS refused to issue a token: HTTP 500: Authentication failed' });
    handler = answer(500, fault('x'.repeat(600)));
    expect(((await issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p' }).catch((e: unknown) => e)) as Error).message)
      .toBe(`STS refused to issue a token: HTTP 500: ${'x'.repeat(500)}`);
  });

  it('an error page that is no SOAP fault: the status alone', async () => {
    for (const body of ['<html><body>Bad Gateway', '<html><body>Bad Gateway</body></html>']) {
      handler = answer(502, body);
      expect(await issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p' }).catch((e: unknown) => e))
        .toMatchObject({ name: 'TransportError', status: 502, code: 'HTTP_502', message: 'STS refused to issue a token: HTTP 502' });
    }
  });

  it('a 200 answer without an assertion, or not XML, is a TokenError', async () => {
    handler = answer(200, rstr(''));
    await expect(issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p' })).rejects.toThrow(new TokenError('the STS answer holds no SAML assertion'));
    handler = answer(200, '<S:Envelope><unclosed>');
    await expect(issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p' })).rejects.toThrow(/^the STS answer is not well-formed XML: /);
  });

  it('an assertion with another prefix (or none) is cut out as well', async () => {
    const plain = '<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_p"><Issuer>sts</Issuer></Assertion>';
    handler = answer(200, rstr(plain));
    expect((await issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p' })).assertion).toBe(plain);
    // A prefix with a dot in it is a prefix, not a pattern: the comment before it is not the assertion.
    const dotted = '<saml.2:Assertion xmlns:saml.2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_d"></saml.2:Assertion>';
    handler = answer(200, rstr(`<!-- <samlX2:Assertion> -->${dotted}`));
    expect((await issueToken(transport(), { stsUrl: base(), username: 'u', password: 'p' })).assertion).toBe(dotted);
  });

  it('needs a user and password, or a certificate and key; a character XML cannot carry is refused before sending', async () => {
    const t = transport();
    await expect(issueToken(t, { stsUrl: base(), username: 'u' })).rejects.toThrow(new TokenError('a bearer token needs username and password'));
    await expect(issueToken(t, { stsUrl: base(), password: 'p' })).rejects.toThrow(new TokenError('a bearer token needs username and password'));
    await expect(issueToken(t, { stsUrl: base(), certificate: 'c' })).rejects.toThrow(new TokenError('a holder-of-key token needs both certificate and privateKey'));
    await expect(issueToken(t, { stsUrl: base(), privateKey: 'k' })).rejects.toThrow(new TokenError('a holder-of-key token needs both certificate and privateKey'));
    await expect(issueToken(t, { stsUrl: base(), username: 'u\u0000', password: 'p' })).rejects.toThrow(new TokenError('the user name or password contains a character XML cannot carry'));
    expect(seen).toEqual([]);
  });
});

describe('issueToken, holder-of-key', () => {
  const pair = extensionCertificate({ commonName: 'hok-solution' });

  it('binds the token to the certificate: a signed request with its BinarySecurityToken, PublicKey, the key returned with the token', async () => {
    const token = await issueToken(transport(), { stsUrl: base(), certificate: pair.cert, privateKey: pair.key });
    expect(token).toEqual({ assertion: ASSERTION, certificate: pair.cert, privateKey: pair.key });
    const body = seen[0]!.body;
    expect(between(body, '<wst:KeyType>', '</wst:KeyType>')).toBe('http://docs.oasis-open.org/ws-sx/ws-trust/200512/PublicKey');
    expect(body).not.toContain('UsernameToken');
    const der = pair.cert.replace(/-----[^-]+-----|\s/g, '');
    expect(body).toContain(`ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3" wsu:Id="`);
    expect(between(body, '<wsse:BinarySecurityToken', '</wsse:BinarySecurityToken>')!.endsWith(`>${der}`)).toBe(true);
    expect(body).not.toContain('PRIVATE KEY');
    // Signed with the key, over the Timestamp and the Body, as a server holding the certificate checks it.
    const sig = new SignedXml({ publicCert: pair.cert, idMode: 'wssecurity', getCertFromKeyInfo: () => null });
    sig.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(body)![0]);
    expect(sig.checkSignature(body)).toBe(true);
    expect(sig.getReferences()).toHaveLength(2);
  });
});

describe('issueTokenFromServer', () => {
  it('asks the STS the server names in config.vpxd.sso.sts.uri, unless given one', async () => {
    const asked: string[] = [];
    const queryOptions = async (name: string) => {
      asked.push(name);
      return [{ key: 'other', value: 'x' }, { key: name, value: `${base()}/sts/named` }];
    };
    await issueTokenFromServer(transport(), { username: 'u', password: 'p' }, queryOptions);
    await issueTokenFromServer(transport(), { username: 'u', password: 'p', stsUrl: `${base()}/sts/given` }, queryOptions);
    expect(asked).toEqual(['config.vpxd.sso.sts.uri']);
    expect(seen.map((s) => s.url)).toEqual(['/sts/named', '/sts/given']);
  });

  it('a server that names no STS: a TypeError saying to pass stsUrl', async () => {
    for (const values of [[], [{ key: 'config.vpxd.sso.sts.uri' }], [{ key: 'other', value: 'https://x' }]]) {
      await expect(issueTokenFromServer(transport(), { username: 'u', password: 'p' }, async () => values))
        .rejects.toThrow(new TypeError('the server names no STS (config.vpxd.sso.sts.uri): pass stsUrl'));
    }
    expect(seen).toEqual([]);
  });
});
