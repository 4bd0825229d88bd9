// The shared harness (inject('harness')) is read-only for the whole run: files run in parallel
// and in any order, so a change one file makes there is what another file may read. Once every
// other project is done, its counters must show no call that changes what others see and no
// fault switch used. A test that needs either starts a harness of its own (test/fixtures.ts).
import { expect, inject, it } from 'vitest';
import { harnessStats } from '../harness/vcsim.ts';

/** Reads, by the names vim25 gives them. */
const READ = /^(Retrieve|ContinueRetrieve|CancelRetrieve|Find|Query|Fetch|Has|Validate|Browse|Lookup|List|Read|Estimate|Evaluate|WaitForUpdates|CheckForUpdates|CancelWaitForUpdates)/;
/** Calls whose effects belong to the caller's own session: its login, its views, collectors and filters. */
const OWN_SESSION = new Set([
  'RetrieveServiceContent', 'CurrentTime', 'SessionIsActive',
  'Login', 'LoginByToken', 'LoginBySSPI', 'LoginExtensionByCertificate', 'LoginExtensionBySubjectName', 'Logout',
  'AcquireCloneTicket', 'CloneSession', 'AcquireGenericServiceTicket', 'AcquireLocalTicket', 'SetLocale', 'ImpersonateUser',
  'CreateContainerView', 'CreateListView', 'CreateListViewFromView', 'CreateInventoryView', 'DestroyView',
  'CreatePropertyCollector', 'DestroyPropertyCollector', 'CreateFilter', 'DestroyPropertyFilter',
  'CreateCollectorForEvents', 'CreateCollectorForTasks', 'DestroyCollector', 'RewindCollector', 'ResetCollector', 'SetCollectorPageSize',
]);

it('no test changed the shared harness or flipped its fault switches', async () => {
  const stats = await harnessStats(inject('harness'));
  const changing = Object.keys(stats.methods).filter((m) => !READ.test(m) && !OWN_SESSION.has(m)).sort();
  expect(changing, 'calls that change the shared harness for every file: move them to a harness of the test\'s own').toEqual([]);
  expect({ dropped: stats.dropped, stalled: stats.stalled, unavailableAnswers: stats.unavailableAnswers, pending: stats.pending })
    .toEqual({ dropped: 0, stalled: 0, unavailableAnswers: 0, pending: { drop: 0, dropStage: 'accept', dropMethod: '', stallSeconds: 0, unavailable: 0 } });
});
