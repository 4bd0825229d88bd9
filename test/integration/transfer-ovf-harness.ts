// The harness's lease records and switches (test/vcsim/export_vm.go), for the OVF tests.
import { harnessRequest, type HarnessInfo } from '../harness/vcsim.ts';

export interface LeaseFile {
  name: string;
  key: string;
  method?: string;
  bytes: number;
  sha256?: string;
  requests: number;
}

export interface LeaseRecord {
  lease: string;
  kind: 'export' | 'import';
  entity: string;
  state: 'open' | 'completed' | 'aborted';
  progressCalls: number;
  lastProgress: number;
  abortFault?: string;
  abortMessage?: string;
  files: LeaseFile[] | null;
}

export interface LeaseList {
  exportVm: boolean;
  pendingFailures: number;
  failed: number;
  leases: LeaseRecord[];
}

export const harnessLeases = (info: HarnessInfo): Promise<LeaseList> => harnessRequest(info, 'GET', '/_harness/leases');
/** false: ExportVm is vcsim's again (MethodNotFound), as an older server. */
export const harnessSetExportVm = (info: HarnessInfo, enabled: boolean): Promise<void> => harnessRequest(info, 'POST', '/_harness/export-vm', { enabled });
/** The next `count` NFC transfers answer 500. */
export const harnessNfcFail = (info: HarnessInfo, count = 1): Promise<void> => harnessRequest(info, 'POST', '/_harness/nfc-fail', { count });

/** The leases made since `before` was listed. */
export async function newLeases(info: HarnessInfo, before: LeaseList): Promise<LeaseRecord[]> {
  const known = new Set(before.leases.map((l) => l.lease));
  return (await harnessLeases(info)).leases.filter((l) => !known.has(l.lease));
}
