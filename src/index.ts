// Public exports only.
export {
  VimClient, type ConnectOptions, type LoginOptions, type ClientEvent, type ClientEvents, type PluginSessionOptions, type CertificateLoginOptions,
  type SessionCallOptions, type TicketRequestOptions, type BrokerLoginCallOptions, type TokenLoginOptions, type SspiLoginOptions, type LocalTicketLoginOptions, type CallArgs,
} from './client.ts';
export type { Protocol, ProtocolOption } from './soap/protocol.ts';
export type { TokenSource } from './session/strategies.ts';
export { MemorySessionStore } from './fleet/memory.ts';
export { FileSessionStore, type FileSessionStoreOptions } from './fleet/file.ts';
export { SessionStoreError, type SessionStore, type StoreLock, type StoreTiming, type SessionStoreErrorReason, type Unreadable } from './fleet/store.ts';
export { SessionBroker, type SessionBrokerOptions, type BrokerOwner } from './fleet/broker.ts';
export { SessionBrokerError, type SessionBrokerErrorReason, type BrokerLoginOptions } from './session/strategies.ts';
export type { EncryptionKey } from './fleet/codec.ts';
export { PluginSessionError, type PluginSessionErrorReason } from './session/plugin.ts';
export { LocalTicketError, DEFAULT_LOCAL_TICKET_DIRECTORIES, type LocalTicketProblem } from './session/local-ticket.ts';
export { TokenError, type SamlToken, type IssueTokenOptions } from './session/token.ts';
export type { SessionManagerCalls, ImpersonateUserOptions } from './session/manager.ts';
export { VimError, VimFault, TransportError, AbortError, ValidationError, isVimFault, type TransportErrorOptions, type TransportErrorCode, type LibraryTransportErrorCode, LIBRARY_TRANSPORT_ERROR_CODES, type VimFaultObject } from './errors.ts';
export type { Logger } from './logger.ts';
export type { CallOptions } from './soap/pipeline.ts';
export type { TlsOptions } from './transport/tls.ts';
export { enumValues } from './binding/metadata.ts';
export { dataObject } from './data.ts';
export { createExtensionCertificate, loadCertificate, subjectName, thumbprint, type CertificateAndKey, type CertificateSource, type ExtensionCertificateOptions } from './certs/certificates.ts';
export type { MethodName, VimMethods } from './generated/methods.ts';
export { TaskBlockedError, TaskTimeoutError, SessionChangedError, InvalidPatternError, type PatternProblem } from './inventory/errors.ts';
export { isEvent, type EventsOptions, type EventTypeName, type HistoryOptions, type TypedEvent } from './inventory/history.ts';
export type { FindOptions, TaggedRetrieveOptions } from './inventory/finder.ts';
export type { RetrieveOptions, RetrievePagesOptions } from './inventory/retrieve.ts';
export type { Row } from './inventory/rows.ts';
export type { RowValue } from './inventory/typed-model.ts';
export type { WaitForTaskOptions } from './inventory/task.ts';
export { UnknownCounterError, IntervalNotKeptError, NoRealtimeStatsError } from './inventory/metrics-errors.ts';
export type { CounterName, CounterRollup, HistoricalInterval, MetricEntity, MetricInterval, MetricPoint, MetricRow, MetricSample, MetricsOptions, WatchMetricsOptions } from './inventory/metrics.ts';
export type { KnownCounterName } from './inventory/metrics-counters.ts';
export type { WatchOptions, WatchUpdate } from './inventory/watch.ts';
export type { InventoryClient, InventoryCallArgs, InventoryTags } from './inventory/inventory-client.ts';
export type * from './generated/types.ts';
// vim25 data types that share their name with a named export above, which a star export would
// let silently win: each is exported as <Name>Data (test/unit/index.test.ts keeps the list whole).
// VimFault is the base of vim25's faults (the error class is VimFault); RetrieveOptions is
// RetrievePropertiesEx's { maxObjects } (the inventory's RetrieveOptions is retrieve()'s).
export type { VimFault as VimFaultData, RetrieveOptions as RetrieveOptionsData, Tag as TagData } from './generated/types.ts';
// Each managed type's properties (VirtualMachineProperties …) and property paths (VirtualMachinePaths …).
export type * from './generated/managed.ts';
export type * from './generated/paths.ts';
export { checkPropertyPaths, isManagedObjectReference, isManagedTypeName } from './managed/checks.ts';
export { faultFromLocalized } from './soap/faults.ts';
export { RestClient, RestError, type RestMethod, type RestOptions, type QueryValue, type VapiSessionMode } from './vapi/rest.ts';
export { TagsClient, type Tag, type TagCategory, type TagCardinality, type CreateCategoryOptions, type CreateTagOptions, type TagCallOptions, type ObjectTags, type TagObjects, type ObjectRef } from './vapi/tags.ts';
export { LibraryClient, DeployError, type DeployOptions, type ContentLibrary, type LibraryItem, type LibraryCallOptions, type FindLibraryOptions } from './vapi/library.ts';
export { DatastoreFiles, type DatastoreTarget, type DatastoreFile, type DatastoreCallOptions, type DatastoreTransferOptions, type DatastoreUploadOptions, type DatastoreListOptions } from './transfer/datastore.ts';
export { GuestFiles, type GuestAuth, type GuestCallOptions, type GuestUploadOptions } from './transfer/guest.ts';
export { TransferError, type TransferErrorReason } from './transfer/errors.ts';
export type { TransferSource, TransferProgress } from './transfer/source.ts';
export type { ImportOvfOptions, OvfProgress, DiskProvisioning } from './transfer/ovf-import.ts';
export type { ExportOvfOptions, ExportOvfResult, ExportedFile } from './transfer/ovf-export.ts';
export { OvfPackageError, OvfSpecError, LeaseError, type OvfPackageErrorReason } from './transfer/ovf-errors.ts';
