// Shapes of the JSON files under bench/results/, and writing them: one timestamped file per
// run plus a `<kind>-latest.json` copy the README is generated from. Quick runs are smoke
// tests: they go to `<kind>-quick-*.json` (git-ignored) and never replace a full run's numbers.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddedLatencyResults } from './added-latency.ts';
import type { Machine } from './machine.ts';
import type { ReloadResults } from './reload.ts';
import type { LoadSettings, ThroughputResults } from './throughput.ts';

export const RESULTS_DIR = join(import.meta.dirname, 'results');

interface RunHeader {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  machine: Machine;
}

export interface BenchRun extends RunHeader {
  kind: 'bench';
  workerCounts: number[];
  load: LoadSettings;
  throughput: ThroughputResults;
  addedLatency?: AddedLatencyResults;
  reload?: ReloadResults;
}

export interface ChaosScenario {
  name: string;
  passed: boolean;
  /** One sentence a person reads in the README table. */
  summary: string;
  details: Record<string, unknown>;
}

export interface ChaosRun extends RunHeader {
  kind: 'chaos';
  scenarios: ChaosScenario[];
}

export function saveRun(run: BenchRun | ChaosRun): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const prefix = run.mode === 'quick' ? `${run.kind}-quick` : run.kind;
  const file = join(RESULTS_DIR, `${prefix}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  copyFileSync(file, join(RESULTS_DIR, `${prefix}-latest.json`));
  return file;
}

export function loadLatest<K extends 'bench' | 'chaos'>(kind: K): (K extends 'bench' ? BenchRun : ChaosRun) | undefined {
  const file = join(RESULTS_DIR, `${kind}-latest.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as K extends 'bench' ? BenchRun : ChaosRun;
}
