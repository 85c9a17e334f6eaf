// The four workloads of issue 8, each a request shape expressed as a wrk Lua script. Every
// system gets exactly the same script against the same upstream.
import { SITE_COUNT } from './sites.ts';

export type WorkloadId = 'small-get' | 'get-64k' | 'post-1m' | 'hosts-1000';

export interface Workload {
  id: WorkloadId;
  label: string;
  path: string;
  /** wrk script shaping each request; empty means a plain GET of `path`. */
  lua: string;
}

const POST_BODY_BYTES = 1024 * 1024;

export const WORKLOADS: readonly Workload[] = [
  { id: 'small-get', label: 'small GET, keep-alive', path: '/small', lua: '' },
  { id: 'get-64k', label: 'GET 64 KiB response', path: '/64k', lua: '' },
  {
    id: 'post-1m',
    label: 'POST 1 MiB body',
    path: '/upload',
    lua: `wrk.method = "POST"
wrk.body = string.rep("x", ${POST_BODY_BYTES})
wrk.headers["Content-Type"] = "application/octet-stream"
`,
  },
  {
    id: 'hosts-1000',
    label: `${SITE_COUNT.toLocaleString('en')} sites, Host routing`,
    path: '/small',
    // Requests are formatted once in init(); request() only hands out the next one, so the
    // load generator's own cost stays close to the plain GET's.
    lua: `local prepared = {}
local next_index = 1
init = function(args)
  for i = 0, ${SITE_COUNT - 1} do
    prepared[#prepared + 1] = wrk.format("GET", "/small", { Host = "site-" .. i .. ".bench.test" })
  end
end
request = function()
  local r = prepared[next_index]
  next_index = next_index % #prepared + 1
  return r
end
`,
  },
];

/**
 * A paced variant of the small GET: each connection waits `delayMs` before its next request,
 * so `connections` connections offer about connections × 1000 / (delayMs + latency) req/s.
 * wrk is closed-loop; this is how it approximates a fixed rate.
 */
export function pacedSmallGet(delayMs: number): Workload {
  return { id: 'small-get', label: 'small GET, paced', path: '/small', lua: `delay = function() return ${delayMs} end\n` };
}

/** The small GET sent with one fixed Host, for runs against a config without a default site. */
export function smallGetForHost(host: string): Workload {
  return { id: 'small-get', label: `small GET, Host ${host}`, path: '/small', lua: `wrk.headers["Host"] = "${host}"\n` };
}
