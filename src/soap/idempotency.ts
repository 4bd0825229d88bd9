// Which vim25 calls may be sent twice when a connection died after the request went out.
// vim25 has no such marker, so this is a conservative rule: reads by name, never a task, and
// never a read that moves a cursor on the server (a replayed ReadNextEvents would skip a page).
// test/unit/soap/idempotency.test.ts lists what the rule lets through, all 928 methods checked.
const READ_PREFIX = /^(Retrieve|Find|Query|Fetch|Has|Validate|Browse|Lookup|List|Read|Estimate|Evaluate)/;
const READS = new Set(['CurrentTime', 'SessionIsActive']);
/**
 * Reads that move a position on the server: history collectors' pages, and the PropertyCollector's
 * update versions (the server counts an answer lost on the way as delivered, so a wait sent again
 * with the same version never sees those changes).
 */
const CURSOR_READS = new Set([
  'ReadNextEvents', 'ReadPreviousEvents', 'ReadNextTasks', 'ReadPreviousTasks',
  'WaitForUpdatesEx', 'WaitForUpdates', 'CheckForUpdates',
]);

export function isIdempotent(method: string): boolean {
  if (method.endsWith('_Task') || CURSOR_READS.has(method)) return false;
  return READS.has(method) || READ_PREFIX.test(method);
}
