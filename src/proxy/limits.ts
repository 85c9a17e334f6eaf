// Every fixed limit of the request path, in one place so docs/data-path.md and the tests can
// name them. Per-site limits (timeouts, body size, rate) come from the config instead.
import type { HeadLimits } from './http1/message.ts';

/**
 * A client that stops reading its response (the proxy's writes to it stay blocked) is closed
 * after the site's `request_timeout_secs` plus this grace, as the upstream would be for the
 * same silence; the upstream connection is then closed too.
 */
export const CLIENT_IDLE_GRACE_MS = 1_000;

/**
 * After a reply that closes the connection while the client may still be sending (a refused head
 * or body, a response before the whole body), the proxy shuts down only its sending side and
 * reads and discards what still comes for this long, then closes (nginx's lingering close).
 * Closing at once would make the kernel reset the connection, and a client that meets the reset
 * before it has read the reply loses the reply.
 */
export const CLIENT_LINGER_MS = 5_000;

/** Largest request head a client may send (nginx's large_client_header_buffers is 4 × 8 KiB); over it: 431. */
export const MAX_REQUEST_HEADER_BYTES = 16_384;

/** Longest request line (nginx: one 8 KiB buffer); over it: 414. */
export const MAX_REQUEST_LINE_BYTES = 8_192;

/** Most header fields in one request (HAProxy's tune.http.maxhdr is 101); over it: 431. */
export const MAX_REQUEST_HEADER_COUNT = 100;

/**
 * Limits on an upstream's response head; over any of them the response is refused with 502.
 * Responses carry more and longer fields than requests (Set-Cookie, CSP), so these are larger.
 */
export const MAX_RESPONSE_HEADER_BYTES = 65_536;
export const MAX_RESPONSE_STATUS_LINE_BYTES = 8_192;
export const MAX_RESPONSE_HEADER_COUNT = 256;

/**
 * How often the one per-worker deadline sweep runs (src/proxy/http1/deadlines.ts): every client
 * and upstream timeout fires within this much of its deadline, at the cost of one pass over
 * the open connections per tick instead of a timer per connection.
 */
export const DEADLINE_TICK_MS = 250;

/**
 * Size of each buffer upstream sockets read into. Buffers are recycled through a per-worker
 * free list instead of being allocated per read (src/proxy/http1/read-buffers.ts).
 */
export const UPSTREAM_READ_BUFFER_BYTES = 65_536;

/** Most spare read buffers each free list keeps (upstream-read sized, client-body sized); more are left to the GC. */
export const MAX_SPARE_READ_BUFFERS = 64;

/**
 * Size of the one buffer every plain client socket of a worker reads into
 * (src/proxy/http1/client-reads.ts): the most a single read takes from a client.
 */
export const CLIENT_READ_BUFFER_BYTES = 65_536;

/**
 * Size of the buffers a plain client connection reads into while it streams a request body or a
 * tunnel upstream (src/proxy/http1/client-reads.ts): such a read goes upstream as it is, without
 * a copy, and its buffer comes back to a free list once written (at most
 * MAX_SPARE_READ_BUFFERS spare ones kept). nginx reads bodies 128 KiB at a time too
 * (client_body_buffer_size in the bench).
 */
export const CLIENT_BODY_READ_BUFFER_BYTES = 131_072;

/**
 * A streaming connection's next read goes into a buffer of its own only after a read of at
 * least this many bytes; after a smaller one it is back on the shared buffer (and what goes
 * upstream is copied). A client that trickles its body, or an idle tunnel, thus holds no buffer
 * between reads; one that stalls right after a large read holds one.
 */
export const OWN_READ_BUFFER_MIN_READ_BYTES = 16_384;

/**
 * Request bytes a client may send ahead (pipelining) while its current request is handled;
 * they stay unparsed, and past this reading from the client pauses until the response is done.
 */
export const MAX_PIPELINED_BYTES = 65_536;

/**
 * After a failed connect, a server of a group with several is skipped by its balancer for this
 * long (nginx's default max_fails=1 fail_timeout=10s). If every server is out that way, they are
 * all tried anyway.
 */
export const UPSTREAM_FAIL_TIMEOUT_MS = 10_000;

/**
 * Most response bytes one exchange holds back while it gathers the chunks of one event-loop turn
 * into a single write to the client (see Exchange.onResponseData). Past it the upstream is paused
 * at once, as without the gathering, so a slow client still costs at most this much memory.
 */
export const MAX_HELD_RESPONSE_BYTES = 256 * 1024;

/** Idle keep-alive connections to an upstream are closed after this long without a request. */
export const UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 60_000;

/**
 * Most client IPs one site's rate limiter tracks at once (per worker process). Past this the
 * oldest-tracked client is forgotten, which at worst hands it a fresh burst.
 */
export const MAX_RATE_LIMIT_CLIENTS = 100_000;

/** How often, at most, a rate limiter walks its table to forget clients whose bucket is full. */
export const RATE_LIMIT_SWEEP_INTERVAL_MS = 10_000;

/**
 * During drain, keep-alive connections are closed after their next response; one that stays
 * idle this long after drain began is closed then, so parked clients do not hold shutdown until
 * the deadline.
 */
export const DRAIN_IDLE_GRACE_MS = 1_000;

/** The request-side limits above, in the shape the parser takes. */
export const REQUEST_HEAD_LIMITS: HeadLimits = { maxStartLineBytes: MAX_REQUEST_LINE_BYTES, maxHeadBytes: MAX_REQUEST_HEADER_BYTES, maxHeaderCount: MAX_REQUEST_HEADER_COUNT };

/** The response-side limits above, in the shape the parser takes. */
export const RESPONSE_HEAD_LIMITS: HeadLimits = { maxStartLineBytes: MAX_RESPONSE_STATUS_LINE_BYTES, maxHeadBytes: MAX_RESPONSE_HEADER_BYTES, maxHeaderCount: MAX_RESPONSE_HEADER_COUNT };

/**
 * Retries in flight a group always allows, whatever its `budget_percent` of the requests in
 * flight says (Envoy's min_retry_concurrency): without a floor, a group with one request in
 * flight could never retry it.
 */
export const RETRY_BUDGET_FLOOR = 3;
