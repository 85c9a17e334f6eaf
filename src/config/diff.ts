// Which restart-only keys differ between the running config and a newly loaded one.
import { isDeepStrictEqual } from 'node:util';
import { STATIC_KEYS, type Config } from './schema.ts';

export function changedStaticKeys(running: Config, next: Config): string[] {
  return STATIC_KEYS.filter((key) => !isDeepStrictEqual(running[key], next[key]));
}
