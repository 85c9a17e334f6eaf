// The JSON replies of seed 000, built in one place so every path answers byte for byte the
// same way: one object on one line, `status` first, ending in `\n`.
import { ReverseProxyError } from '../errors.ts';
import type { ReloadOutcome, StatusOutcome } from './backend.ts';

export const INVALID_INPUT = 'invalid input';

export function okReply(fields: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ status: 'ok', ...fields })}\n`;
}

export function errorReply(message: string): string {
  return `${JSON.stringify({ status: 'error', message })}\n`;
}

export function unknownCommandReply(command: string): string {
  return errorReply(`unknown command: ${command}`);
}

export function reloadReply(outcome: ReloadOutcome): string {
  if (!outcome.ok) return errorReply(outcome.message);
  return outcome.warnings.length > 0 ? okReply({ warnings: outcome.warnings }) : okReply();
}

export function statusReply(outcome: StatusOutcome): string {
  return outcome.ok ? okReply({ uptime_secs: Math.floor(outcome.uptimeSecs), sites: outcome.sites }) : errorReply(outcome.message);
}

/**
 * What a client may be told about a failure: our own errors carry operator-facing messages;
 * anything else is an internal fault whose details belong in the log, not on the socket.
 */
export function describeFailure(err: unknown): string {
  return err instanceof ReverseProxyError ? err.message : 'internal error (see the proxy log)';
}
