// Whose admin socket is this? The owner of a Unix socket file is the user whose process bound
// it, and nobody but root can give a socket to another user: so the owner uid, read before
// connecting, tells our own proxy from one another local user put at the path first (in a
// shared /tmp-like directory, say). Part of ctl's light import graph: node: built-ins only.
import { readFileSync, statSync } from 'node:fs';
import { AdminSocketOwnerError, UsageError } from '../errors.ts';

const PASSWD = '/etc/passwd';

/** `name:x:uid:...` rows of /etc/passwd; users known only to NSS (LDAP, sssd) are not there. */
function passwdEntries(): { name: string; uid: number }[] {
  let text: string;
  try {
    text = readFileSync(PASSWD, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    const [name, , uid] = line.split(':');
    return name && uid !== undefined && /^\d+$/.test(uid) ? [{ name, uid: Number(uid) }] : [];
  });
}

/** `uid 65534 (nobody)`, or `uid 1234` when the name cannot be resolved. */
function describeUser(uid: number): string {
  const name = passwdEntries().find((e) => e.uid === uid)?.name;
  return name === undefined ? `uid ${uid}` : `uid ${uid} (${name})`;
}

/** The uid an operator named with `--socket-owner`: a number, or a user name from /etc/passwd. */
export function parseSocketOwner(flag: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const entry = passwdEntries().find((e) => e.name === trimmed);
  if (entry === undefined) throw new UsageError(`${flag} "${text}": no such user in ${PASSWD}; give the uid as a number`);
  return entry.uid;
}

/** True when a socket owned by `uid` may be trusted: ours, root's, or the one the operator named. */
function isTrustedOwner(uid: number, expectedOwner?: number): boolean {
  return uid === process.getuid?.() || uid === 0 || uid === expectedOwner;
}

/**
 * Throws AdminSocketOwnerError when the socket at `path` (symbolic links followed, as connect()
 * follows them) is owned by an untrusted user. A missing path passes: connecting reports it.
 */
export function checkSocketOwner(path: string, expectedOwner: number | undefined, consequence: string): void {
  let uid: number;
  try {
    uid = statSync(path).uid;
  } catch {
    return;
  }
  if (!isTrustedOwner(uid, expectedOwner)) throw new AdminSocketOwnerError(path, uid, describeUser(uid), consequence);
}
