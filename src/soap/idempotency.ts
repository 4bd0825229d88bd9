// Which vim25 calls may be sent twice when a connection died after the request went out.
// vim25 has no such marker, so this is a conservative rule: reads by name, never a task.
const READ_PREFIX = /^(Retrieve|Find|Query|Fetch|Has|Validate|Browse|Lookup|List|Read|Estimate|Evaluate)/;
const READS = new Set(['CurrentTime', 'SessionIsActive', 'WaitForUpdates', 'WaitForUpdatesEx', 'CheckForUpdates']);

export function isIdempotent(method: string): boolean {
  if (method.endsWith('_Task')) return false;
  return READS.has(method) || READ_PREFIX.test(method);
}
