// A genuine node-soap Client on a VimClient's session. node-soap does what integrations wrote
// against it for: the full vim25 WSDL (describe(), XxxAsync, events, addSoapHeader,
// setSecurity, its parsing of answers). Three pieces are the VimClient's:
// - HTTP (http.ts): transport, cookie jar, session guard;
// - the request body: node-soap's serializer is replaced, for vim25 operations, by our binding's
//   encoder, fed node-soap-style arguments (args.ts), so requests follow the schema's order and
//   carry xsi:type where vCenter needs it;
// - what the client keeps: lastRequest, lastMessage and lastResponse are stored redacted
//   (secrets.ts).
import soap from 'soap';
import type { Client, IHttpClient, IOptions, WSDL } from 'soap';
import { encodeRequest } from '../binding/encode.ts';
import { methodInfo } from '../binding/metadata.ts';
import { VIM25_NS, XSD_NS, XSI_NS } from '../binding/xml.ts';
import type { VimClient } from '../client.ts';
import { CLIENT_INTERNALS, type ClientInternals, type HasInternals } from '../internals.ts';
import { wsdlLocation } from '../wsdl/load.ts';
import { bindingArgs } from './args.ts';
import { VimHttpClient, type VimHttpClientOptions } from './http.ts';
import { redactXml, secretsIn } from './secrets.ts';
import { sharedWsdl } from './wsdl.ts';

/** node-soap's client options, except what the VimClient provides (HTTP, endpoint, the WSDL's location and cache). */
export type SoapClientOptions = Omit<IOptions, 'httpClient' | 'request' | 'endpoint' | 'disableCache' | 'wsdlCache' | 'wsdl_options' | 'wsdl_headers'>;

export interface CreateSoapClientOptions extends SoapClientOptions {
  /**
   * The vim25 WSDL: a bundle directory, a vimService.wsdl path, or a URL (downloaded under the
   * VimClient's TLS policy). Default: the server's own `<sdk>/vimService.wsdl`.
   */
  wsdl?: string;
}

/** node-soap's members the adapter replaces; node-soap declares them private. */
interface SoapClientInternals {
  httpClient: IHttpClient;
  SOAPAction?: string;
}

type ObjectToDocumentXml = (name: string, params: unknown, nsPrefix: string, nsURI: string, type: string, options: unknown) => string;

const ADOPTED = Symbol('vim25-soap.node-soap');
const NAMESPACES = `xmlns="${VIM25_NS}" xmlns:vim25="${VIM25_NS}" xmlns:xsd="${XSD_NS}" xmlns:xsi="${XSI_NS}"`;

function internalsOf(vimClient: unknown, caller: string): ClientInternals {
  const get = (vimClient as Partial<HasInternals> | null | undefined)?.[CLIENT_INTERNALS];
  if (typeof get !== 'function') throw new TypeError(`${caller} needs a VimClient`);
  return get.call(vimClient);
}

/** What the serializer learned of the request it wrote last: the secrets lastMessage and lastRequest must not keep. */
interface RequestMemory {
  secrets: ReadonlySet<string>;
}

/**
 * `wsdl` for one client: the shared parse behind it, its options the client's own (node-soap
 * would otherwise let every client of a cached WSDL overwrite the others'), and vim25 request
 * bodies written by our encoder.
 */
function clientWsdl(shared: WSDL, memory: RequestMemory, options: SoapClientOptions | undefined): WSDL {
  const wsdl = Object.create(shared) as WSDL;
  if (options) (wsdl as unknown as { _initializeOptions(o: object): void })._initializeOptions({ ...options });
  const nodeSoapSerializer = (shared as unknown as { objectToDocumentXML: ObjectToDocumentXml }).objectToDocumentXML;
  Object.defineProperty(wsdl, 'objectToDocumentXML', {
    value(this: WSDL, name: string, params: unknown, ...rest: [string, string, string, unknown]): string {
      const info = methodInfo(name);
      if (!info) {
        memory.secrets = new Set();
        return nodeSoapSerializer.call(this, name, params, ...rest);
      }
      const o = this.options as { attributesKey?: string; valueKey?: string; xmlKey?: string };
      const { _this, args } = bindingArgs(info, params, { attributes: o.attributesKey ?? 'attributes', value: o.valueKey ?? '$value', xml: o.xmlKey ?? '$xml' });
      const body = encodeRequest(info, _this, args);
      memory.secrets = secretsIn(info.request, { ...args, _this });
      return `<${name} ${NAMESPACES}>${body}</${name}>`;
    },
  });
  return wsdl;
}

/** lastRequest, lastMessage and lastResponse as accessors that store what is safe to keep. */
function keepRedacted(client: Client, memory: RequestMemory, http: VimHttpClient): void {
  const kept: Record<'lastRequest' | 'lastMessage' | 'lastResponse', unknown> = {
    lastRequest: client.lastRequest,
    lastMessage: client.lastMessage,
    lastResponse: client.lastResponse,
  };
  const define = (name: keyof typeof kept, redact: (v: string) => string): void => {
    Object.defineProperty(client, name, {
      configurable: true,
      enumerable: true,
      get: () => kept[name],
      set: (v: unknown) => {
        kept[name] = typeof v === 'string' ? redact(v) : v;
      },
    });
  };
  // node-soap sets lastMessage, then lastRequest, right after the serializer ran.
  define('lastMessage', (v) => (memory.secrets.size ? redactXml(v, memory.secrets) : v));
  define('lastRequest', (v) => {
    const out = memory.secrets.size || v.includes('Security') ? redactXml(v, memory.secrets) : v;
    memory.secrets = new Set();
    return out;
  });
  define('lastResponse', (v) => http.redactedAnswer(v));
}

function adopt(client: Client, vim: ClientInternals, http: VimHttpClient, memory: RequestMemory): Client {
  const own = client as unknown as SoapClientInternals & { [ADOPTED]?: true };
  own.httpClient = http;
  keepRedacted(client, memory, http);
  client.setEndpoint(vim.url);
  // vim25 has one soapAction for every operation; the server reads the API version from it.
  if (!own.SOAPAction) client.setSOAPAction(`urn:vim25/${vim.apiVersion}`);
  own[ADOPTED] = true;
  return client;
}

/**
 * A node-soap Client built from the full vim25 WSDL whose calls run on `vimClient`: its TLS
 * policy, cookie jar (the session is shared both ways), deadlines and limits, and its
 * re-authentication (NotAuthenticated: one re-login for all callers of both APIs, then the
 * call once more; login methods are sent once).
 */
export async function createSoapClient(vimClient: VimClient, options: CreateSoapClientOptions = {}): Promise<Client> {
  const vim = internalsOf(vimClient, 'createSoapClient');
  const { wsdl, ...soapOptions } = options;
  const location = wsdl === undefined ? `${vim.url}/vimService.wsdl` : wsdlLocation(wsdl);
  const httpOptions: VimHttpClientOptions = { parseResponseAttachments: soapOptions.parseResponseAttachments ?? soapOptions.parseReponseAttachments, encoding: soapOptions.encoding };
  const http = new VimHttpClient(vim, httpOptions);
  const shared = await sharedWsdl(location, http);
  const memory: RequestMemory = { secrets: new Set() };
  const client = new soap.Client(clientWsdl(shared, memory, soapOptions), vim.url, { ...soapOptions, httpClient: http });
  return adopt(client, vim, http, memory);
}

/**
 * Puts a node-soap Client the integration built itself (from a vim25 WSDL) on `vimClient`'s
 * session, as createSoapClient's clients are: HTTP through the VimClient, schema-ordered
 * request bodies, redacted lastRequest/lastResponse, its endpoint set to the VimClient's.
 * Returns the same client; doing it twice changes nothing.
 */
export function useSession<C extends Client>(soapClient: C, vimClient: VimClient): C {
  const vim = internalsOf(vimClient, 'useSession');
  // Duck-typed: the integration's node-soap may be another copy than the one this package loads.
  const candidate = soapClient as Partial<Client> | null;
  if (typeof candidate?.setEndpoint !== 'function' || typeof candidate.setSOAPAction !== 'function' || !candidate.wsdl) {
    throw new TypeError('useSession needs a node-soap Client');
  }
  if ((soapClient as unknown as { [ADOPTED]?: true })[ADOPTED]) return soapClient;
  const previous = (soapClient as unknown as SoapClientInternals).httpClient as { options?: VimHttpClientOptions } | undefined;
  const http = new VimHttpClient(vim, { parseResponseAttachments: previous?.options?.parseResponseAttachments, encoding: previous?.options?.encoding });
  const memory: RequestMemory = { secrets: new Set() };
  soapClient.wsdl = clientWsdl(soapClient.wsdl, memory, undefined);
  adopt(soapClient, vim, http, memory);
  return soapClient;
}
