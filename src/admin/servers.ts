// `show servers` and `set server`, HAProxy runtime-API style: one line per server under a
// `#` header naming the columns, and `set server <group>/<url> state ready|drain|maint`.
import { SERVER_ADMIN_STATES, type ServerAdminState } from '../config/upstream-groups.ts';
import type { MasterBackend, ServerRow } from './backend.ts';
import { errorReply, okReply } from './reply.ts';

export function formatServerTable(rows: readonly ServerRow[]): string {
  const lines = ['# group server health admin weight backup active last_check last_check_at\n'];
  for (const r of rows) {
    const fields = [r.group, r.url, r.health, r.admin, String(r.weight), r.backup ? 'yes' : 'no', String(r.active), r.lastCheck ?? '-', r.lastCheckAt?.toISOString() ?? '-'];
    lines.push(`${fields.join(' ')}\n`);
  }
  return lines.join('');
}

const SET_SERVER_USAGE = 'usage: set server <group>/<url> state ready|drain|maint';

/** `args` are the words after `set server`. */
export function setServer(backend: MasterBackend, args: readonly string[]): string {
  const [target = '', keyword, state, ...extra] = args;
  const slash = target.indexOf('/');
  if (slash <= 0 || keyword !== 'state' || state === undefined || extra.length > 0) return errorReply(SET_SERVER_USAGE);
  if (!(SERVER_ADMIN_STATES as readonly string[]).includes(state)) return errorReply(`state must be one of ${SERVER_ADMIN_STATES.join(', ')}, not "${state}"`);
  let url: string;
  try {
    url = new URL(target.slice(slash + 1)).origin;
  } catch {
    return errorReply(`"${target.slice(slash + 1)}" is not a server URL; ${SET_SERVER_USAGE}`);
  }
  const problem = backend.setServerState(target.slice(0, slash), url, state as ServerAdminState);
  return problem === undefined ? okReply() : errorReply(problem);
}
