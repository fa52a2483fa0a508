/**
 * The planner setting that lets one big statement use the server's parallel
 * workers: parallel_tuple_cost 0.01 instead of the default 0.1, so the
 * planner sorts a duplicate aggregate in the workers (bench/README.md, B8).
 * max_parallel_workers_per_gather, the DBA's ceiling, is never raised
 * (only lowered to 0 for the row count beside a scan, bench/README.md B12).
 * Set for a whole session (ConnectOptions.parallelWorkers) or around one
 * statement (clean's staging).
 */
export const PARALLEL_WORKERS_SETTING = { name: 'parallel_tuple_cost', value: '0.01' } as const;
