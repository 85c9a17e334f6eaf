// What every chaos scenario is given: where to write, the shared upstream, and how long to run.
export interface ChaosSettings {
  workDir: string;
  upstreamPort: number;
  connections: number;
  /** Length of each load run a scenario drives. */
  loadSecs: number;
  /** Admin-socket fuzz inputs (issue 8: 10,000). */
  fuzzInputs: number;
  /** Broken-config reloads attempted under load. */
  brokenReloads: number;
  quick: boolean;
}
