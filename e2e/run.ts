// `npm run e2e`: pod-level scenarios, in order. Stage 1 runs real processes on this machine;
// stage 2 builds the image and runs the chart's pod under podman (skipped, saying why, only
// where podman cannot run at all). Each stage is a node:test suite, so the run ends with the
// test runner's pass/fail summary and its exit status.
import './process-pod.ts';
import './container-pod.ts';
