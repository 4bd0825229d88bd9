// Public exports only.
export {
  VimClient, type ConnectOptions, type LoginOptions, type ClientEvent, type ClientEvents, type PluginSessionOptions, type CertificateLoginOptions,
  type SessionCallOptions, type BrokerLoginCallOptions, type TokenLoginOptions, type SspiLoginOptions, type LocalTicketLoginOptions, type CallArgs,
} from './client.ts';
export type { TokenSource } from './session/strategies.ts';
export { MemorySessionStore } from './fleet/memory.ts';
export { FileSessionStore, type FileSessionStoreOptions } from './fleet/file.ts';
export { SessionStoreError, type SessionStore, type StoreLock, type StoreTiming, type SessionStoreErrorReason } from './fleet/store.ts';
export { SessionBroker, SessionBrokerError, type SessionBrokerOptions, type SessionBrokerErrorReason, type BrokerLoginOptions } from './fleet/broker.ts';
export type { EncryptionKey } from './fleet/codec.ts';
export { PluginSessionError, type PluginSessionErrorReason } from './session/plugin.ts';
export { LocalTicketError, DEFAULT_LOCAL_TICKET_DIRECTORIES, type LocalTicketProblem } from './session/local-ticket.ts';
export { TokenError, type SamlToken, type IssueTokenOptions } from './session/token.ts';
export type { SessionManagerCalls, SessionManagerProperties } from './session/manager.ts';
export { VimError, VimFault, TransportError, AbortError, ValidationError, isVimFault, type TransportErrorOptions, type VimFaultObject } from './errors.ts';
export type { Logger } from './logger.ts';
export type { CallOptions } from './soap/pipeline.ts';
export type { TlsOptions } from './transport/tls.ts';
export { enumValues } from './binding/metadata.ts';
export { dataObject } from './data.ts';
export { createExtensionCertificate, loadCertificate, subjectName, thumbprint, type CertificateAndKey, type ExtensionCertificateOptions } from './certs/certificates.ts';
export type { MethodName, VimMethods } from './generated/methods.ts';
export { TaskBlockedError, TaskTimeoutError, SessionChangedError } from './inventory/errors.ts';
export { isEvent, type EventsOptions, type HistoryOptions, type TypedEvent } from './inventory/history.ts';
export type { FindOptions } from './inventory/finder.ts';
export type { RetrieveOptions, RetrievePagesOptions } from './inventory/retrieve.ts';
export type { Row } from './inventory/rows.ts';
export type { WaitForTaskOptions } from './inventory/task.ts';
export type { WatchOptions, WatchUpdate } from './inventory/watch.ts';
export type { InventoryClient } from './inventory/client.ts';
export type * from './generated/types.ts';
// The vim25 data type VimFault (the base of vim25's faults) shares its name with the error
// class above, which a star export would let silently win: it is exported under its own name.
export type { VimFault as VimFaultData } from './generated/types.ts';
export type { ManagedTypeName, ManagedSubtypes, ManagedObjectTypes, TaskRef, TaskResultOf } from './generated/managed.ts';
export type { ManagedObjectPaths, PropertyPath, PathValue } from './generated/paths.ts';
export { checkPropertyPaths, isManagedObjectReference, isManagedTypeName } from './managed/model.ts';
export { faultFromLocalized } from './soap/faults.ts';
