/**
 * The statements of a clean-up, as pure functions of the key, by step (src/sql/clean/). The executor
 * (core/clean) runs the staging once, then per batch, in one transaction: lock → rank → skip checks →
 * archive → merge → re-point → delete. Nothing is pulled into Node: every step is INSERT … SELECT,
 * UPDATE … FROM or DELETE … USING on the materialised id lists.
 */
export * from './clean/stage.js';
export * from './clean/lock-and-rank.js';
export * from './clean/group-skips.js';
export * from './clean/child-rows.js';
export * from './clean/batch-results.js';
export * from './clean/citus-lock.js';
export * from './clean/shard-pin.js';
