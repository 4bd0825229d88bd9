// Public exports only.
export { VimClient, type ConnectOptions, type LoginOptions, type ClientEvent, type PluginSessionOptions, type CertificateLoginOptions } from './client.ts';
export { PluginSessionError, type PluginSessionErrorReason } from './session/plugin.ts';
export { LocalTicketError, DEFAULT_LOCAL_TICKET_DIRECTORIES, type LocalTicketProblem } from './session/local-ticket.ts';
export { TokenError, type SamlToken, type IssueTokenOptions } from './session/token.ts';
export type { SessionManagerCalls, SessionManagerProperties } from './session/manager.ts';
export { VimError, VimFault, TransportError, ValidationError, isVimFault, type TransportErrorOptions } from './errors.ts';
export type { Logger } from './logger.ts';
export type { CallOptions } from './soap/pipeline.ts';
export type { TlsOptions } from './transport/tls.ts';
export { enumValues } from './binding/metadata.ts';
export { dataObject } from './data.ts';
export { createExtensionCertificate, loadCertificate, subjectName, thumbprint, type CertificateAndKey, type ExtensionCertificateOptions } from './certs/certificates.ts';
export type { MethodName, VimMethods } from './generated/methods.ts';
export type * from './generated/types.ts';
