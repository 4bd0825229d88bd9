// The 'json' project's setup file: the integration files it lists run again with VI/JSON as
// every client's default wire (issue 27: the same tests on both wires, not copies). A test that
// names a protocol keeps it. Put back after each file: with isolate off, a worker may run another
// project's files next.
import { afterAll } from 'vitest';
import { VimClient } from 'vim25-soap';

const connect = VimClient.connect;
VimClient.connect = ((url, options = {}) => connect.call(VimClient, url, { protocol: 'json', ...options })) as typeof VimClient.connect;
// Child processes: fleet members (fleet-child.ts) and the command (VC_PROTOCOL).
process.env.VIM25_TEST_PROTOCOL = 'json';

afterAll(() => {
  VimClient.connect = connect;
  delete process.env.VIM25_TEST_PROTOCOL;
});
