// The replay rule over every vim25 method: what it lets through is this reviewed list, so a
// change to the rule (or a new bundle) that lets another method be replayed fails here.
import { describe, expect, it } from 'vitest';
import { METHODS } from '../../../src/generated/metadata.ts';
import { isIdempotent } from '../../../src/soap/idempotency.ts';

const ALL = METHODS.split('\n').map((line) => line.slice(0, line.indexOf('|')));

/** Reviewed: reads that leave the server as they found it (a replayed RetrievePropertiesEx at most leaves one more result set to expire). */
const REPLAYABLE = `
  RetrieveRolePermissions RetrieveEntityPermissions RetrieveAllPermissions HasPrivilegeOnEntity
  HasPrivilegeOnEntities HasUserPrivilegeOnEntities FetchUserPrivilegeOnEntities ValidateHCIConfiguration
  RetrieveDasAdvancedRuntimeInfo FindRulesForVm QueryConnectionInfo QueryConnectionInfoViaSpec
  QueryDescriptions BrowseDiagnosticLog FetchAuditRecords FetchDVPortKeys FetchDVPorts QueryUsedVlanIdInDvs
  LookupDvPortGroup QueryConfigOptionDescriptor QueryConfigOption QueryConfigOptionEx QueryConfigTarget
  QueryTargetCapabilities FindExtension QueryManagedBy QueryExtensionIpAllocationUsage QueryProviderList
  HasProvider QueryProviderName QueryHealthUpdateInfos QueryMonitoredEntities HasMonitoredEntity
  QueryUnmonitoredHosts QueryHealthUpdates QueryFilterList QueryFilterName QueryFilterInfoIds
  QueryFilterEntities QueryTpmAttestationReport QueryHostConnectionInfo QueryMemoryOverhead
  QueryMemoryOverheadEx RetrieveHardwareUptime QueryProductLockerLocation RetrieveFreeEpcMemory
  QueryIoFilterIssues QueryIoFilterInfo QueryDisksUsingFilter QueryIpPools QueryIPAllocations
  QueryAssignedLicenses QuerySupportedFeatures QueryLicenseSourceAvailability QueryLicenseUsage
  LookupVmOverheadMemory ValidateHost QueryPerfProviderSummary QueryAvailablePerfMetric QueryPerfCounter
  QueryPerfCounterByLevel QueryPerf QueryPerfComposite EstimateDatabaseSize QueryResourceConfigOption
  FindByUuid FindByDatastorePath FindByDnsName FindByIp FindByInventoryPath FindChild FindAllByUuid
  FindAllByDnsName FindAllByIp CurrentTime RetrieveServiceContent ValidateMigration QueryVMotionCompatibility
  RetrieveProductComponents QueryServiceList SessionIsActive QueryHostsWithAttachedLun QueryIORMConfigOption
  QueryDatastorePerformanceSummary ValidateStoragePodConfig RetrieveUserGroups QueryVirtualDiskFragmentation
  QueryVirtualDiskUuid QueryVirtualDiskGeometry QueryConnections QueryChangedDiskAreas QueryUnownedFiles
  QueryFaultToleranceCompatibility QueryFaultToleranceCompatibilityEx QueryVsanUpgradeStatus
  QueryAvailableDvsSpec QueryCompatibleHostForNewDvs QueryCompatibleHostForExistingDvs
  QueryDvsCompatibleHostSpec QueryDvsFeatureCapability QueryDvsByUuid QueryDvsConfigTarget
  QueryDvsCheckCompatibility ListKeys ListKmipServers RetrieveKmipServerCert RetrieveSelfSignedClientCert
  RetrieveClientCsr RetrieveClientCert QueryCryptoKeyStatus ListKmsClusters RetrieveArgumentDescription
  QueryEvents ListSmartCardTrustAnchors RetrieveDynamicPassthroughInfo QueryBootDevices ListCACertificates
  ListCACertificateRevocationLists QueryAvailableDisksForVmfs QueryVmfsDatastoreCreateOptions
  QueryVmfsDatastoreExtendOptions QueryVmfsDatastoreExpandOptions QueryUnresolvedVmfsVolumes
  QueryAvailableTimeZones QueryDateTime QueryAvailablePartition QueryPartitionCreateOptions
  QueryPartitionCreateDesc QueryFirmwareConfigUploadURL RetrieveVgpuDeviceInfo RetrieveVgpuProfileInfo
  FetchSystemEventLog RetrieveHostAccessControlEntries QuerySystemUsers QueryLockdownExceptions
  QueryVnicStatus QueryPnicStatus QueryBoundVnics QueryCandidateNics QueryMigrationDependencies QueryModules
  QueryConfiguredModuleOptionString QueryNetworkHint RetrieveDiskPartitionInfo QueryUnresolvedVmfsVolume
  QueryPathSelectionPolicyOptions QueryStorageArrayTypePolicyOptions QueryAvailableSsds QueryNFSUser
  QueryVmfsConfigOption QueryNetConfig QueryCmmds QueryPhysicalVsanDisks QueryVsanObjects
  QueryObjectsOnPhysicalVsanDisk QueryVsanStatistics QuerySyncingVsanObjects QueryVsanObjectUuidsByFilter
  QueryDisksForVsan QueryHostStatus QueryOptions QueryComplianceStatus QueryExpressionMetadata
  RetrieveDescription QueryPolicyMetadata FindAssociatedProfile RetrieveHostSpecification
  QueryHostProfileMetadata QueryProfileStructure RetrieveAnswerFile RetrieveAnswerFileForProfile
  QueryAnswerFileStatus RetrieveHostCustomizations RetrieveHostCustomizationsForProfile
  RetrieveEntityScheduledTask RetrieveObjectScheduledTask RetrieveServiceProviderEntities ListGuestAliases
  ListGuestMappedAliases ValidateCredentialsInGuest ListFilesInGuest ListProcessesInGuest
  ReadEnvironmentVariableInGuest ListRegistryKeysInGuest ListRegistryValuesInGuest
  RetrieveVStorageInfrastructureObjectPolicy RetrieveVStorageObject RetrieveVStorageObjectState
  RetrieveVStorageObjectAssociations ListVStorageObject ListVStorageObjectsAttachedToTag
  ListTagsAttachedToVStorageObject RetrieveSnapshotInfo RetrieveSnapshotDetails RetrieveProperties
  RetrievePropertiesEx
`.trim().split(/\s+/);

describe('isIdempotent over all vim25 methods', () => {
  it('knows every method of the bundle', () => {
    expect(ALL).toHaveLength(928);
  });

  it('lets exactly the reviewed reads be replayed', () => {
    expect(ALL.filter(isIdempotent).sort()).toEqual([...REPLAYABLE].sort());
  });

  it('never replays a task, a read that moves a history collector, or a wait for updates (its version is spent)', () => {
    for (const m of ['ReadNextEvents', 'ReadPreviousEvents', 'ReadNextTasks', 'ReadPreviousTasks', 'ContinueRetrievePropertiesEx', 'WaitForUpdatesEx', 'WaitForUpdates', 'CheckForUpdates']) {
      expect(ALL).toContain(m);
      expect(isIdempotent(m), m).toBe(false);
    }
    expect(ALL.filter((m) => m.endsWith('_Task')).filter(isIdempotent)).toEqual([]);
  });
});
