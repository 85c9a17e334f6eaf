// Every fixed limit of the request path, in one place so docs/data-path.md and the tests can
// name them. Per-site limits (timeouts, body size, rate) come from the config instead.

/**
 * Time a client gets to send the complete request head (request line + headers), like nginx's
 * `client_header_timeout`. Bounds slowloris-style connections that trickle headers.
 */
export const CLIENT_HEADERS_TIMEOUT_MS = 60_000;

/**
 * Node's whole-request timeout is disabled (0): a large upload may legitimately take longer than
 * any fixed bound. A client that stops sending or reading is caught by the idle timeout below.
 */
export const CLIENT_REQUEST_TIMEOUT_MS = 0;

/**
 * How long an idle keep-alive client connection stays open between requests (nginx's
 * `keepalive_timeout` defaults to 75 s; HAProxy's `timeout http-keep-alive` is usually shorter).
 */
export const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * While a request is in progress, a client connection with no bytes moving either way is closed
 * after the site's `request_timeout_secs` plus this grace — the grace lets the upstream's own
 * 504 reach the client first when it is the upstream that is silent.
 */
export const CLIENT_IDLE_GRACE_MS = 1_000;

/**
 * Largest request head a client may send. This is Node's default (`--max-http-header-size`,
 * 16 KiB); larger heads get `431 Request Header Fields Too Large` from Node itself.
 */
export const MAX_REQUEST_HEADER_BYTES = 16_384;

/**
 * After a failed connect, an upstream of a site with several is skipped by round-robin for this
 * long (nginx's default max_fails=1 fail_timeout=10s). If every upstream is out, they are all
 * tried anyway.
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
