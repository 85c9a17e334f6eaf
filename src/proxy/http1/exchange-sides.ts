// What an exchange (exchange.ts) is handed: the client connection it serves, as the narrow set
// of calls it makes on it (connection.ts implements them), and the request as routing decided it
// (route.ts builds it, forward-heads.ts writes it). Kept apart so that those modules depend on
// this contract rather than on the exchange's own code.
import type { Socket } from 'node:net';
import type { Logger } from '../../log.ts';
import type { RequestIds } from '../request-id.ts';
import type { ProxyReply } from '../responses.ts';
import type { Handling } from '../routes/handling.ts';
import type { BodyFraming } from './message.ts';
import type { Tunnel } from './tunnel.ts';

/** What the exchange needs from the client connection it serves. */
export interface ClientSide {
  readonly socket: Socket;
  /** Set when request IDs are on: the response carries the request's ID. */
  readonly requestIds: RequestIds | undefined;
  readonly versionMinor: 0 | 1;
  readonly keepAliveSecs: number;
  readonly logger: Logger;
  /** Whether the connection may carry another request after this response. */
  keepAliveAfterResponse(): boolean;
  /** The upstream is ready: start handing over the request body. */
  startBody(): void;
  pauseBody(): void;
  resumeBody(): void;
  /** The client has stopped reading the response (true) or caught up again (false). */
  sendStalled(stalled: boolean): void;
  /** The response is completely written. */
  finish(keepAlive: boolean): void;
  /** Answer with a proxy reply instead (nothing of a response was sent yet). */
  reply(reply: ProxyReply, code: string): void;
  /** Part of the response is out: the only honest signal left is closing the connection. */
  fail(): void;
  becomeTunnel(tunnel: Tunnel): void;
}

export interface ForwardRequest {
  readonly handling: Handling;
  readonly method: string;
  readonly target: string;
  readonly headers: readonly string[];
  /** The client's address (hash balancing on client_ip). */
  readonly remote: string;
  /** No Host among `headers`: send the upstream's own host:port. */
  readonly upstreamHost: boolean;
  readonly bodyFraming: BodyFraming;
  /** The protocol of an Upgrade request (never h2c), else undefined. */
  readonly upgrade: string | undefined;
}
