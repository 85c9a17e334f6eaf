// The two admin-socket commands the reloader needs, with their replies checked against the
// protocol: `show info json` (what the proxy runs) and `reload` (seed 000 reply).
import { DEFAULT_CLIENT_TIMEOUT_MS, sendCommand } from '../admin/client.ts';
import { AdminReplyError } from '../errors.ts';

/** The fields of `show info json` the reloader relies on. */
export interface ProxyInfo {
  config_file: string;
  config_sha256: string;
  generation: number;
}

type ReloadReply = { ok: true; warnings: string[] } | { ok: false; message: string };

export interface ProxyAdmin {
  /**
   * Throws AdminUnreachableError (no proxy), AdminSocketOwnerError (a socket another user
   * owns) or AdminReplyError (a reply we cannot use).
   */
  info(): Promise<ProxyInfo>;
  /** Throws as info() does; a refused reload is a reply, not an exception. */
  reload(): Promise<ReloadReply>;
}

const INFO_COMMAND = 'show info json';
const RELOAD_COMMAND = 'reload';

function parseJsonObject(command: string, reply: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(reply.trim());
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the protocol error below
  }
  throw new AdminReplyError(command, reply);
}

export function parseInfoReply(reply: string): ProxyInfo {
  const info = parseJsonObject(INFO_COMMAND, reply);
  const sha = info['config_sha256'];
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw new AdminReplyError(INFO_COMMAND, reply);
  return {
    config_file: typeof info['config_file'] === 'string' ? info['config_file'] : '',
    config_sha256: sha,
    generation: typeof info['generation'] === 'number' ? info['generation'] : 0,
  };
}

export function parseReloadReply(reply: string): ReloadReply {
  const body = parseJsonObject(RELOAD_COMMAND, reply);
  if (body['status'] === 'ok') {
    const warnings = Array.isArray(body['warnings']) ? body['warnings'].map(String) : [];
    return { ok: true, warnings };
  }
  if (body['status'] === 'error' && typeof body['message'] === 'string') return { ok: false, message: body['message'] };
  throw new AdminReplyError(RELOAD_COMMAND, reply);
}

/** `expectedOwner`: a uid besides ours and root's whose socket is trusted (--socket-owner). */
export function createProxyAdmin(socketPath: string, reloadTimeoutMs: number, expectedOwner?: number): ProxyAdmin {
  return {
    info: async () => parseInfoReply(await sendCommand(socketPath, INFO_COMMAND, DEFAULT_CLIENT_TIMEOUT_MS, expectedOwner)),
    reload: async () => parseReloadReply(await sendCommand(socketPath, RELOAD_COMMAND, reloadTimeoutMs, expectedOwner)),
  };
}
