#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm ci` through the root `prepare` script, or `npm run build`).
try {
  require.resolve('../dist/main.js');
} catch {
  console.error('corral: the CLI is not built yet. Run `npm run build` in the repository root (npm ci does it for you).');
  process.exit(1);
}
require('../dist/main.js');
