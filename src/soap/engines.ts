// Picks the engine a client sends its calls through. node-soap (and with it axios) is imported
// only when asked for: it is most of a short-lived process's start-up time.
import type { HttpTransport } from '../transport/http.ts';
import type { ServiceDescription } from '../wsdl/load.ts';
import { DirectEngine } from './direct-engine.ts';
import type { EngineFactory, EngineKind } from './engine.ts';

/** The factory for `kind`; the node-soap engine needs the service description it builds its WSDLs from. */
export async function engineFactory(kind: EngineKind, description: ServiceDescription | undefined): Promise<EngineFactory> {
  if (kind === 'direct') return (endpoint: string, transport: HttpTransport) => new DirectEngine(endpoint, transport);
  if (!description) throw new TypeError('the node-soap engine needs the WSDL');
  const { NodeSoapEngine } = await import('./node-soap-engine.ts');
  return (endpoint, transport) => new NodeSoapEngine(description, endpoint, transport);
}
