// Where things are, relative to the repository this e2e runs from.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The pinned Node 24 (npm package `node`): the machine's default node may be older. */
export const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
export const CLI = join(REPO_ROOT, 'src', 'cli.ts');
