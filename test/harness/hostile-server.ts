// A small vim25 server of our own on 127.0.0.1, for what no simulator sends: hostile and broken
// answers. It speaks just enough vim25 for a client to connect, log in and call
// (vimServiceVersions.xml, RetrieveServiceContent, Login, Logout, CurrentTime,
// AcquireCloneTicket, AcquireLocalTicket), over SOAP and, for the first five, over VI/JSON
// (/sdk/vim25/{release}/{Type}/{moId}/{Method}), and any answer can be replaced per method by a
// test (VI/JSON requests by 'json:<Method>').
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackServerCertificate } from './tls-fixtures.ts';

export const ENV = (body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

export const VERSION_FILE = '<?xml version="1.0" encoding="UTF-8"?><namespaces version="1.0"><namespace><name>urn:vim25</name><version>8.0.3.0</version><priorVersions><version>8.0.2.0</version></priorVersions></namespace></namespaces>';

const SERVICE_CONTENT = '<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval>'
  + '<rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>'
  + '<about><name>Hostile</name><fullName>Hostile vim25</fullName><vendor>Nobody</vendor><version>8.0.3</version><build>1</build>'
  + '<osType>linux-x64</osType><productLineId>vpx</productLineId><apiType>VirtualCenter</apiType><apiVersion>8.0.3.0</apiVersion></about>'
  + '<sessionManager type="SessionManager">SessionManager</sessionManager></returnval></RetrieveServiceContentResponse>';

/** What the server answers: a whole body, or a body written by the test (streams, stalls, cut connections). */
export type Answer =
  | { status?: number; headers?: Record<string, string | string[]>; body: string | Buffer }
  | { write: (res: ServerResponse, req: IncomingMessage) => void };

export interface HostileServer {
  url: string;
  cert: string;
  /** Replaces the answer to a vim25 method (or 'versions' for vimServiceVersions.xml) until cleared. */
  answers: Map<string, Answer>;
  /** Every request: the vim25 method (or the path) and its body. */
  requests: { method: string; body: string; cookie: string | undefined }[];
  close(): Promise<void>;
}

function methodOf(body: string): string {
  return /<(?:\w+:)?(\w+) xmlns(?::\w+)?="urn:vim25"/.exec(body)?.[1] ?? '?';
}

function standard(method: string, sessions: { n: number }): Answer | undefined {
  switch (method) {
    case 'RetrieveServiceContent':
      return { body: ENV(SERVICE_CONTENT) };
    case 'Login':
      sessions.n++;
      return {
        headers: { 'Set-Cookie': `vmware_soap_session="hostile-session-${sessions.n}"; Path=/; HttpOnly; Secure` },
        body: ENV(`<LoginResponse xmlns="urn:vim25"><returnval><key>s${sessions.n}</key><userName>root</userName><fullName>root</fullName><loginTime>2026-01-01T00:00:00Z</loginTime><lastActiveTime>2026-01-01T00:00:00Z</lastActiveTime><locale>en</locale><messageLocale>en</messageLocale><extensionSession>false</extensionSession><ipAddress>127.0.0.1</ipAddress><userAgent>x</userAgent><callCount>0</callCount></returnval></LoginResponse>`),
      };
    case 'Logout':
      return { body: ENV('<LogoutResponse xmlns="urn:vim25"></LogoutResponse>') };
    case 'CurrentTime':
      return { body: ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse>') };
    case 'AcquireCloneTicket':
      return { body: ENV('<AcquireCloneTicketResponse xmlns="urn:vim25"><returnval>cst-ticket</returnval></AcquireCloneTicketResponse>') };
    default:
      return undefined;
  }
}

const MOREF = (type: string, value: string): Record<string, string> => ({ _typeName: 'ManagedObjectReference', type, value });
const JSON_SERVICE_CONTENT = JSON.stringify({
  _typeName: 'ServiceContent', rootFolder: MOREF('Folder', 'group-d1'), propertyCollector: MOREF('PropertyCollector', 'propertyCollector'),
  about: { _typeName: 'AboutInfo', name: 'Hostile', fullName: 'Hostile vim25', vendor: 'Nobody', version: '8.0.3', build: '1', osType: 'linux-x64', productLineId: 'vpx', apiType: 'VirtualCenter', apiVersion: '8.0.3.0' },
  sessionManager: MOREF('SessionManager', 'SessionManager'),
});

function jsonStandard(method: string, sessions: { n: number }): Answer | undefined {
  const json = (body: string, headers: Record<string, string> = {}): Answer => ({ headers: { 'Content-Type': 'application/json', ...headers }, body });
  switch (method) {
    case 'RetrieveServiceContent':
      return json(JSON_SERVICE_CONTENT);
    case 'Login':
      sessions.n++;
      return json(JSON.stringify({ _typeName: 'UserSession', key: `s${sessions.n}`, userName: 'root', fullName: 'root', loginTime: '2026-01-01T00:00:00Z', lastActiveTime: '2026-01-01T00:00:00Z', locale: 'en', messageLocale: 'en', extensionSession: false, ipAddress: '127.0.0.1', userAgent: 'x', callCount: 0 }), { 'vmware-api-session-id': `hostile-session-${sessions.n}` });
    case 'Logout':
      return { status: 204, body: '' };
    case 'CurrentTime':
      return json('"2026-01-01T00:00:00Z"');
    default:
      return undefined;
  }
}

/** The method a VI/JSON request names: the last path segment of a POST, the content read of the probe. */
function jsonMethodOf(req: IncomingMessage): string | undefined {
  const m = /^\/sdk\/vim25\/[^/]+\/([^/]+)\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
  if (!m) return undefined;
  return req.method === 'GET' ? (m[3] === 'content' ? 'RetrieveServiceContent' : `get:${m[3]}`) : m[3]!;
}

export async function startHostileServer(): Promise<HostileServer> {
  const { cert, key } = loopbackServerCertificate('hostile');
  const answers = new Map<string, Answer>();
  const requests: HostileServer['requests'] = [];
  const sessions = { n: 0 };
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const jsonMethod = jsonMethodOf(req);
      if (jsonMethod !== undefined) {
        requests.push({ method: `json:${jsonMethod}`, body, cookie: req.headers['vmware-api-session-id'] as string | undefined });
        const answer = answers.get(`json:${jsonMethod}`) ?? jsonStandard(jsonMethod, sessions)
          ?? { status: 500, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ _typeName: 'MethodNotFound', faultstring: jsonMethod, receiver: MOREF('ServiceInstance', 'ServiceInstance'), method: jsonMethod }) };
        if ('write' in answer) answer.write(res, req);
        else res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...answer.headers }).end(answer.body);
        return;
      }
      const method = req.url?.endsWith('/vimServiceVersions.xml') ? 'versions' : methodOf(body);
      requests.push({ method, body, cookie: req.headers.cookie });
      const answer = answers.get(method) ?? (method === 'versions' ? { body: VERSION_FILE } : standard(method, sessions))
        ?? faultAnswer('MethodNotFound', `<receiver type="ServiceInstance">ServiceInstance</receiver><method>${method}</method>`);
      if ('write' in answer) {
        answer.write(res, req);
        return;
      }
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'text/xml; charset=utf-8', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`,
    cert,
    answers,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A vim25 fault answer (HTTP 500) of type `fault`, e.g. NotAuthenticated or InvalidLogin. */
export function faultAnswer(fault: string, inner = ''): Answer {
  return {
    status: 500,
    body: ENV(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${fault}</faultstring><detail><${fault}Fault xmlns="urn:vim25" xsi:type="${fault}">${inner}</${fault}Fault></detail></soapenv:Fault>`),
  };
}

/**
 * Streams `total` bytes made of `head`, then `unit` repeated, then `tail`, honouring
 * back-pressure, and stops when the client goes away.
 */
export function streamed(head: string, unit: string, total: number, tail = '', headers: Record<string, string> = {}): Answer {
  return {
    write: (res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
      const block = Buffer.from(unit.repeat(Math.max(1, Math.floor(65536 / unit.length))));
      let sent = 0;
      let gone = false;
      res.on('close', () => (gone = true));
      res.write(head);
      const pump = (): void => {
        while (!gone && sent < total) {
          sent += block.length;
          if (!res.write(block)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!gone) res.end(tail);
      };
      pump();
    },
  };
}
