// undici's Pool and connector, loaded from their own files instead of the package index. The
// index also loads fetch, WebSocket, the cache and the mock agents, none of which a worker
// uses: on undici 8.12.4 that is +14 MB RSS and +2.9 MB of V8 heap per worker. undici is
// pinned to an exact version in package.json and has no `exports` map, so these paths are
// stable until a deliberate upgrade, which the proxy tests would catch.
import { createRequire } from 'node:module';
import type { buildConnector as BuildConnector, Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
export const buildConnector = require('undici/lib/core/connect.js') as typeof BuildConnector;
export type Connector = BuildConnector.connector;
