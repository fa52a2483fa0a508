/**
 * Runs once per vitest run (not once per file): says in one line that the
 * Citus suites are skipped, or fails the run under CI, where they must run.
 */
export default function citusSuiteNotice(): void {
  if (process.env.TEST_CITUS_URL !== undefined) return;
  if (process.env.CI) throw new Error('CI must run the Citus suite: set TEST_CITUS_URL (scripts/citus-cluster.sh start prints it)');
  console.log('Citus suite skipped: TEST_CITUS_URL is not set (scripts/citus-cluster.sh start prints it)');
}
