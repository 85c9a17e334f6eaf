// Socket levels, from least to most privileged. Kept free of the config schema's runtime
// code (zod) so `ctl` and the socket code can use them without loading it.
import type { AdminLevel } from '../config/schema.ts';

const RANK: Record<AdminLevel, number> = { user: 0, operator: 1, admin: 2 };

export function levelAllows(socketLevel: AdminLevel, required: AdminLevel): boolean {
  return RANK[socketLevel] >= RANK[required];
}
