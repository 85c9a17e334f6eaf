#!/usr/bin/env -S node --max-semi-space-size=1
// The published entry point runs the compiled build (npm run build, done by the Dockerfile).
// The flag on the first line is SMALL_YOUNG_GENERATION_FLAG (src/runtime/worker-flags.ts says why).
import '../dist/cli.js';
