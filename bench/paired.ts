// Head-to-head rounds: two systems alternate short rounds, A B B A A B B A …, and each pair
// of adjacent rounds gives one ratio. On this shared machine req/s drifts by 20–40% within a
// minute, with every system at once (the rotated rounds of throughput.ts show it), so a ratio
// of two rounds a second apart sees far less of the drift than a ratio of two median rounds
// tens of seconds apart, and the ABBA order cancels a steady drift within every two pairs.
// The figure a target is judged on is the ratio of the two systems' mean req/s over all their
// paired rounds: throughput over the same stretch of the run. (Not the ratio of requests: a
// `-d1s` round lasts 1.00-1.04 s as wrk measures it, longer for a system slower to accept, so
// counts alone would favour that system by a few percent.) Its 95%
// interval comes from resampling the pairs: on two cores a round's req/s also depends on which
// processes the scheduler put on the same core (a single round can be 30% off its neighbour),
// and only more pairs narrow that.
import type { RunningSystem } from './peers/types.ts';
import { measuredRound, type MeasuredRound } from './round.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';
import { percentile, round } from './stats.ts';
import type { Workload, WorkloadId } from './workloads.ts';

export interface PairedSettings {
  pairs: number;
  /** Length of one round of one system. */
  roundSecs: number;
  connections: number;
}

/** One system's side of a comparison, as throughput.ts keys and runs it. */
export interface PairedSide {
  key: string;
  running: RunningSystem;
}

interface SideTotals {
  key: string;
  /** req/s of each of its rounds, pair by pair. */
  roundsRps: number[];
  requests: number;
  cpuUsPerRequest: number;
  /** Socket errors + responses ≥ 400 over all its rounds. */
  errors: number;
}

export interface PairedComparison {
  workload: WorkloadId;
  settings: PairedSettings;
  candidate: SideTotals;
  baseline: SideTotals;
  /** Candidate's mean req/s ÷ the baseline's over all paired rounds. */
  rpsRatio: number;
  /** 95% bootstrap interval of rpsRatio, resampling whole pairs. */
  rpsRatioInterval: [number, number];
  /** Spread of the per-pair ratios (candidate round ÷ the adjacent baseline round). */
  pairRatios: { min: number; q1: number; median: number; q3: number; max: number };
  /** Candidate's CPU µs per request ÷ the baseline's, over all paired rounds. */
  cpuRatio: number;
}

function totals(key: string, rounds: readonly MeasuredRound[]): SideTotals {
  const requests = rounds.reduce((n, r) => n + r.load.requests, 0);
  const cpuMs = rounds.reduce((n, r) => n + r.cpuMs, 0);
  return {
    key,
    roundsRps: rounds.map((r) => r.load.rps),
    requests,
    cpuUsPerRequest: round((cpuMs * 1000) / Math.max(1, requests), 1),
    errors: rounds.reduce((n, r) => n + r.load.socketErrors + r.load.non2xx, 0),
  };
}

const RESAMPLES = 2_000;

/** A baseline that served nothing gives a large ratio, not Infinity. */
const ratioOfSums = (candidate: number, baseline: number) => candidate / Math.max(1, baseline);

/** Σcandidate ÷ Σbaseline of per-round req/s, pair by pair. */
export function rateRatio(candidate: readonly number[], baseline: readonly number[]): number {
  const sum = (values: readonly number[]) => values.reduce((n, v) => n + v, 0);
  return ratioOfSums(sum(candidate), sum(baseline));
}

/** 2.5th and 97.5th percentiles of rateRatio over pairs drawn with replacement. */
export function bootstrapInterval(candidate: readonly number[], baseline: readonly number[]): [number, number] {
  // A fixed seed: the same rounds always give the same interval.
  const random = seededRandom(candidate.length * 7919 + 13);
  const ratios: number[] = [];
  for (let i = 0; i < RESAMPLES; i++) {
    let c = 0;
    let b = 0;
    for (let j = 0; j < candidate.length; j++) {
      const pick = Math.floor(random() * candidate.length);
      c += candidate[pick] ?? 0;
      b += baseline[pick] ?? 0;
    }
    ratios.push(ratioOfSums(c, b));
  }
  return [round(percentile(ratios, 2.5)), round(percentile(ratios, 97.5))];
}

/** Runs `settings.pairs` pairs of rounds, candidate first in even pairs and baseline first in odd ones. */
export async function comparePaired(candidate: PairedSide, baseline: PairedSide, workload: Workload, settings: PairedSettings): Promise<PairedComparison> {
  const candidateRounds: MeasuredRound[] = [];
  const baselineRounds: MeasuredRound[] = [];
  const runRound = (side: PairedSide) => measuredRound(side.running, workload, settings.connections, settings.roundSecs);
  for (let pair = 0; pair < settings.pairs; pair++) {
    const candidateFirst = pair % 2 === 0;
    const first = await runRound(candidateFirst ? candidate : baseline);
    const second = await runRound(candidateFirst ? baseline : candidate);
    candidateRounds.push(candidateFirst ? first : second);
    baselineRounds.push(candidateFirst ? second : first);
  }
  const c = totals(candidate.key, candidateRounds);
  const b = totals(baseline.key, baselineRounds);
  const ratios = c.roundsRps.map((rps, i) => rps / Math.max(1, b.roundsRps[i] ?? 0));
  return {
    workload: workload.id,
    settings,
    candidate: c,
    baseline: b,
    rpsRatio: round(rateRatio(c.roundsRps, b.roundsRps)),
    rpsRatioInterval: bootstrapInterval(c.roundsRps, b.roundsRps),
    pairRatios: { min: round(Math.min(...ratios)), q1: round(percentile(ratios, 25)), median: round(percentile(ratios, 50)), q3: round(percentile(ratios, 75)), max: round(Math.max(...ratios)) },
    cpuRatio: round(c.cpuUsPerRequest / Math.max(0.1, b.cpuUsPerRequest)),
  };
}

/** One line for the run's log. */
export function describeComparison(c: PairedComparison): string {
  const r = c.pairRatios;
  const [low, high] = c.rpsRatioInterval;
  return `${c.candidate.key} ÷ ${c.baseline.key} ${c.workload}: ${c.rpsRatio.toFixed(3)}× req/s (95% ${low.toFixed(3)}–${high.toFixed(3)}) over ${c.settings.pairs} pairs (pairs ${r.min.toFixed(2)} | ${r.q1.toFixed(2)} ${r.median.toFixed(2)} ${r.q3.toFixed(2)} | ${r.max.toFixed(2)}), ${c.cpuRatio.toFixed(3)}× CPU per request (${c.candidate.cpuUsPerRequest} vs ${c.baseline.cpuUsPerRequest} µs), errors ${c.candidate.errors + c.baseline.errors}`;
}
