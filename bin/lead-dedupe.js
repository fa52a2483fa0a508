#!/usr/bin/env node
// One bundled file (npm run build), compiled from V8's code cache when it matches this Node (load-cli.js).
import { loadCli } from './load-cli.js';

process.exitCode = await loadCli().exports.main(process.argv);
