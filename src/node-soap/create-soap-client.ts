// A genuine node-soap Client on a VimClient's session. node-soap does what integrations wrote
// against it for: the full vim25 WSDL (describe(), XxxAsync, events, addSoapHeader,
// setSecurity, its parsing of answers). Three pieces are the VimClient's:
// - the call path (http.ts): node-soap's envelopes go through the VimClient's pipeline and
//   session, on its transport and cookie jar;
// - the request body: node-soap's serializer is replaced, for vim25 operations, by our binding's
//   encoder, fed node-soap-style arguments (args.ts), so requests follow the schema's order and
//   carry xsi:type where vCenter needs it; the arguments it converted go with the envelope into
//   the pipeline, whose logging redacts them as it does any call's;
// - what the client keeps: lastRequest, lastMessage and lastResponse are stored redacted.
import soap from 'soap';
import type { Client, IHttpClient, IOptions, WSDL } from 'soap';
import { encodeRequest } from '../binding/encode.ts';
import { methodInfo, undeclaredMethod } from '../binding/metadata.ts';
import { redactXml, secretsIn } from '../binding/redact.ts';
import { VIM25_NS, XSD_NS, XSI_NS } from '../binding/xml.ts';
import type { VimClient } from '../client.ts';
import { internalsOf, type ClientInternals } from '../internals.ts';
import { wsdlLocation } from '../wsdl/load.ts';
import { bindingArgs } from './args.ts';
import { VimHttpClient, type VimHttpClientOptions, type WrittenRequest, type WrittenRequests } from './http.ts';
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

function vimInternals(vimClient: unknown, caller: string): ClientInternals {
  const vim = internalsOf(vimClient);
  if (!vim) throw new TypeError(`${caller} needs a VimClient`);
  return vim;
}

/**
 * What the serializer wrote: each call's request for the HTTP client, and the last one's secrets,
 * which lastMessage and lastRequest (set right after it) must not keep.
 */
interface RequestMemory {
  readonly written: WrittenRequests;
  last: WrittenRequest | undefined;
}

const NO_SECRETS: ReadonlySet<string> = new Set();

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
    value(this: WSDL, name: string, params: unknown, nsPrefix: string, nsURI: string, type: string, callOptions: unknown): string {
      const info = methodInfo(name);
      let xml: string;
      let request: WrittenRequest;
      if (info) {
        const o = this.options as { attributesKey?: string; valueKey?: string; xmlKey?: string };
        const { _this, args } = bindingArgs(info, params, { attributes: o.attributesKey ?? 'attributes', value: o.valueKey ?? '$value', xml: o.xmlKey ?? '$xml' });
        xml = `<${name} ${NAMESPACES}>${encodeRequest(info, _this, args)}</${name}>`;
        request = { info, _this, args, secrets: secretsIn(info.request, args) };
      } else {
        // An operation the bundle does not declare (a newer server's WSDL): node-soap writes it.
        xml = nodeSoapSerializer.call(this, name, params, nsPrefix, nsURI, type, callOptions);
        request = { info: undeclaredMethod(name), _this: undefined, args: undefined, secrets: NO_SECRETS };
      }
      memory.last = request;
      // node-soap hands the same options object to the HTTP client with the envelope.
      if (typeof callOptions === 'object' && callOptions !== null) memory.written.set(callOptions, request);
      return xml;
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
  const secrets = (): ReadonlySet<string> => memory.last?.secrets ?? NO_SECRETS;
  define('lastMessage', (v) => (secrets().size ? redactXml(v, secrets()) : v));
  define('lastRequest', (v) => {
    const out = secrets().size || v.includes('Security') ? redactXml(v, secrets()) : v;
    memory.last = undefined;
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
  const vim = vimInternals(vimClient, 'createSoapClient');
  // node-soap writes SOAP envelopes; they would go over the client's wire.
  if (vimClient.protocol !== 'soap') {
    throw new TypeError(`createSoapClient: node-soap speaks SOAP, and this VimClient speaks ${vimClient.protocol}: connect it with protocol 'soap' (a session id from it works on a SOAP client too: attachSession(client.sessionId))`);
  }
  const { wsdl, ...soapOptions } = options;
  const location = wsdl === undefined ? `${vim.url}/vimService.wsdl` : wsdlLocation(wsdl);
  const httpOptions: VimHttpClientOptions = { parseResponseAttachments: soapOptions.parseResponseAttachments ?? soapOptions.parseReponseAttachments, encoding: soapOptions.encoding };
  const memory: RequestMemory = { written: new WeakMap(), last: undefined };
  const http = new VimHttpClient(vim, memory.written, httpOptions);
  const shared = await sharedWsdl(location, http, vim.transport.options.tls);
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
  const vim = vimInternals(vimClient, 'useSession');
  // Duck-typed: the integration's node-soap may be another copy than the one this package loads.
  const candidate = soapClient as Partial<Client> | null;
  if (typeof candidate?.setEndpoint !== 'function' || typeof candidate.setSOAPAction !== 'function' || !candidate.wsdl) {
    throw new TypeError('useSession needs a node-soap Client');
  }
  if ((soapClient as unknown as { [ADOPTED]?: true })[ADOPTED]) return soapClient;
  const previous = (soapClient as unknown as SoapClientInternals).httpClient as { options?: VimHttpClientOptions } | undefined;
  const memory: RequestMemory = { written: new WeakMap(), last: undefined };
  const http = new VimHttpClient(vim, memory.written, { parseResponseAttachments: previous?.options?.parseResponseAttachments, encoding: previous?.options?.encoding });
  soapClient.wsdl = clientWsdl(soapClient.wsdl, memory, undefined);
  adopt(soapClient, vim, http, memory);
  return soapClient;
}
