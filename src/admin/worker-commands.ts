// The commands a worker answers for itself when the master routes one to it (`@1 show info`).
// They are all read-only, so the master's level check before routing is the only one needed.
import type { WorkerBackend } from './backend.ts';
import { formatHelp, formatInfo, formatInfoJson, type HelpEntry } from './format.ts';
import { normalizeCommand } from './line.ts';
import { INVALID_INPUT, describeFailure, errorReply, statusReply, unknownCommandReply } from './reply.ts';

export const WORKER_HELP: readonly HelpEntry[] = [
  { usage: 'help', description: 'list the commands valid at this level' },
  { usage: 'status', description: "this worker's health as seed JSON (uptime, sites)" },
  { usage: 'show info [json]', description: "this worker's generation, config hash and counters" },
  { usage: 'show sites', description: "this worker's routing table, one host pattern per line" },
];

function formatSites(backend: WorkerBackend): string {
  const { generation } = backend.info();
  const sites = backend.sites();
  return [`# generation ${generation}, ${sites.length} site(s)\n`, ...sites.map((s) => `${s}\n`)].join('');
}

/** The text reply of this worker to one routed command line. */
export function runWorkerCommand(line: string, backend: WorkerBackend): string {
  const command = normalizeCommand(line);
  try {
    switch (command) {
      case '':
        return errorReply(INVALID_INPUT);
      case 'help':
        return formatHelp(WORKER_HELP);
      case 'status':
        return statusReply(backend.status());
      case 'show info':
        return formatInfo(backend.info());
      case 'show info json':
        return formatInfoJson(backend.info());
      case 'show sites':
        return formatSites(backend);
      default:
        return unknownCommandReply(command);
    }
  } catch (err) {
    return errorReply(describeFailure(err));
  }
}
