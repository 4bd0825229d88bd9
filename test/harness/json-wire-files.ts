// The integration files the 'json' project (vitest.config.ts) runs a second time with VI/JSON as
// the default wire (json-default.ts). Not fleet-redis or fleet-file: what they test is the store
// across processes (locks, outages, planted and corrupt values), the same on either wire, and
// their child processes were a fifth of the json project's CPU; how a shared session is adopted,
// checked and replaced on the wire is fleet-memory's and fleet-broker's to test there.
export const JSON_WIRE_FILES: readonly string[] = [
  'session', 'session-lifecycle', 'clone-tickets', 'certificate-login', 'token-login', 'secrets',
  'sso-login', 'plugin-session', 'connect',
  'inventory-retrieve', 'inventory-find', 'inventory-tasks', 'inventory-watch', 'inventory-events', 'inventory-metrics',
  'fleet-memory', 'fleet-broker', 'binding', 'managed-objects', 'vi-json',
].map((name) => `test/integration/${name}.test.ts`);
