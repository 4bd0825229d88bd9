// undici's dispatcher classes and connector, loaded without the rest of the package. Its
// index also loads fetch, WebSocket, caches, interceptors and mocks, and makes Node load its
// own bundled undici: ~100 ms and ~20 MB in every process (issue 9), against ~30 ms for these
// three files. The version is pinned exactly; test/unit/transport/undici.test.ts checks that
// these are the very classes the package exports, so an upgrade that moves them fails there.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const Client = require('undici/lib/dispatcher/client.js') as typeof Undici.Client;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
export type { Dispatcher } from 'undici';
export type ConnectFunction = Undici.buildConnector.connector;
export type ConnectParams = Undici.buildConnector.Options;
export type ClientOptions = Undici.Client.Options;
export type Pools = Undici.Agent;
