// A bounded stream of GET requests over keep-alive connections, counting every outcome, so a
// test can say "zero failed requests while X happened". Loopback only.
import { Pool } from 'undici';

export interface LoadResult {
  ok: number;
  /** Responses other than 2xx, by status. */
  statuses: Record<number, number>;
  /** Requests that got no response at all, by error message. */
  errors: Record<string, number>;
}

export const failures = (r: LoadResult) =>
  Object.values(r.statuses).reduce((a, b) => a + b, 0) + Object.values(r.errors).reduce((a, b) => a + b, 0);

/** Upper bound on a load run, whatever `until` does. */
export const MAX_LOAD_MS = 60_000;

export async function runLoad(options: { url: string; host: string; connections?: number; path?: string; until: Promise<unknown> }): Promise<LoadResult> {
  const connections = options.connections ?? 8;
  const pool = new Pool(options.url, { connections, pipelining: 1 });
  const result: LoadResult = { ok: 0, statuses: {}, errors: {} };
  let done = false;
  void options.until.finally(() => (done = true));
  const deadline = setTimeout(() => (done = true), MAX_LOAD_MS);
  const client = async () => {
    while (!done) {
      try {
        const res = await pool.request({ path: options.path ?? '/', method: 'GET', headers: { host: options.host } });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) result.ok++;
        else result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
      } catch (err) {
        const key = (err as Error).message;
        result.errors[key] = (result.errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  clearTimeout(deadline);
  await pool.close();
  return result;
}
