// vim25-soap/node-soap: node-soap clients on a VimClient's session, for integrations written
// against node-soap. This entry point is the only one that loads node-soap (an optional peer
// dependency); `vim25-soap` itself never does.
export { createSoapClient, useSession, type CreateSoapClientOptions, type SoapClientOptions } from './create-soap-client.ts';
export { samlTokenSecurity } from './security.ts';
