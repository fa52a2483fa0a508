#!/usr/bin/env node
// One bundled file (npm run build): start-up is about half of loading ~400 modules one by one.
import { main } from '../dist/lead-dedupe.mjs';

process.exitCode = await main(process.argv);
