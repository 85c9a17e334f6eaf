#!/usr/bin/env node
// The published entry point runs the compiled build (npm run build, done by the Dockerfile).
import '../dist/cli.js';
