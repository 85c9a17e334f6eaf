// Steady client traffic through the proxy while the config changes under it: a few keep-alive
// connections sending GETs back to back, every outcome recorded, so "no failed request" is
// something the e2e can assert rather than hope.
import { Agent, request } from 'node:http';

export interface Outcome {
  /** When the request was sent and when its outcome was known (ms since the epoch). */
  sentAt: number;
  at: number;
  status: number;
  body: string;
  error?: string;
}

export interface Traffic {
  outcomes: Outcome[];
  /** Resolves once a response body (trimmed) equals `body`. */
  waitForBody(body: string, timeoutMs: number): Promise<void>;
  stop(): Promise<Outcome[]>;
}

export function get(url: string, host: string, agent?: Agent, timeoutMs = 10_000): Promise<Outcome> {
  const sentAt = Date.now();
  return new Promise((resolve) => {
    const req = request(url, { headers: { host }, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ sentAt, at: Date.now(), status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString().trim() }));
      res.on('error', (err) => resolve({ sentAt, at: Date.now(), status: 0, body: '', error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ sentAt, at: Date.now(), status: 0, body: '', error: err.message }));
    req.end();
  });
}

export function startTraffic(url: string, host: string, connections = 4): Traffic {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const outcomes: Outcome[] = [];
  const waiters: { body: string; resolve: () => void }[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const outcome = await get(url, host, agent);
      outcomes.push(outcome);
      for (const w of waiters.filter((w) => w.body === outcome.body)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const loops = Array.from({ length: connections }, loop);
  return {
    outcomes,
    waitForBody: (body, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (outcomes.some((o) => o.body === body)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no response "${body}" within ${timeoutMs} ms (last: ${JSON.stringify(outcomes.at(-1))})`)), timeoutMs);
        waiters.push({ body, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return outcomes;
    },
  };
}

/**
 * Bodies answered before `swapAt` and to requests sent after `reloadedAt`. While a reload is in
 * progress, workers switch one by one, so only the two sides of that window are definite.
 */
export function bodiesAround(outcomes: readonly Outcome[], swapAt: number, reloadedAt: number): { before: string[]; after: string[] } {
  const distinct = (list: Outcome[]) => [...new Set(list.map((o) => o.body))];
  return { before: distinct(outcomes.filter((o) => o.at <= swapAt)), after: distinct(outcomes.filter((o) => o.sentAt > reloadedAt)) };
}
