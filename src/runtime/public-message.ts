// What an admin reply (or a log line an operator reads) may say about a failure.
import { describeFailure } from '../admin/reply.ts';
import { ReverseProxyError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** A message fit for an admin reply: ours are written for people; anything else is hidden. */
export function publicMessage(err: unknown, logger: Logger): string {
  if (!(err instanceof ReverseProxyError)) logger.error({ event: 'internal_error', err }, 'unexpected error');
  return describeFailure(err);
}
