// Public exports only.
export { VimClient, type ConnectOptions, type LoginOptions, type ClientEvent, type PluginSessionOptions, type CertificateLoginOptions } from './client.ts';
export { PluginSessionError, type PluginSessionErrorReason } from './session/plugin.ts';
export { TokenError, type SamlToken, type IssueTokenOptions } from './session/token.ts';
export type { SessionManagerCalls, SessionManagerProperties } from './session/manager.ts';
export { VimError, VimFault, TransportError, ValidationError, isVimFault, type TransportErrorOptions, type VimFaultObject } from './errors.ts';
export type { Logger } from './logger.ts';
export type { CallOptions } from './soap/invoke.ts';
export type { TlsOptions } from './transport/tls.ts';
export { enumValues } from './binding/metadata.ts';
export { dataObject } from './data.ts';
export { createExtensionCertificate, loadCertificate, subjectName, thumbprint, type CertificateAndKey, type ExtensionCertificateOptions } from './certs/certificates.ts';
export type { MethodName, VimMethods } from './generated/methods.ts';
export type * from './generated/types.ts';
export type { ManagedTypeName, ManagedSubtypes, ManagedObjectTypes, TaskRef, TaskResultOf } from './generated/managed.ts';
export type { ManagedObjectPaths, PropertyPath, PathValue } from './generated/paths.ts';
export { checkPropertyPaths, isManagedObjectReference } from './managed/model.ts';
export { faultFromLocalized } from './managed/faults.ts';
