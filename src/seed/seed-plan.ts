/**
 * How many rows of each kind a seeded table gets. Pure arithmetic, so the
 * figures the demo shows are known before a row is written.
 */
export type SeedScenario = 'production' | 'webhook-race' | 'near-duplicates';
export const SEED_SCENARIOS: readonly SeedScenario[] = ['production', 'webhook-race', 'near-duplicates'];

export interface SeedPlan {
  rows: number;
  scenario: SeedScenario;
  devices: number;
  users: number;
  /** Distinct (device_id, phone) keys with a non-NULL phone. */
  baseKeys: number;
  /** Size of each duplicate group under device-phone; group i belongs to key i+1. */
  groupSizes: number[];
  /** Rows beyond one per group under device-phone (the production clean-up's "8,069"). */
  surplus: number;
  /** The first group is the largest (39 in production). */
  largestGroup: number;
  /** Extra rows whose phone is another spelling of a key's phone: duplicates only after e164. */
  formatVariants: number;
  /** Rows that reuse a key's phone on a sibling device of the same user: duplicates only under user-phone. */
  siblingReuses: number;
  /** Rows with a NULL phone, in pairs per device: duplicates only with --nulls-equal. */
  nullPhones: number;
  /**
   * near-duplicates only: resubmissions of a person with typos (phone one edit
   * or two digits swapped, email case/spaces/+tag/Gmail dots, name spelling,
   * accents or token order), hours to days later, that no exact key catches.
   */
  nearDuplicates: number;
  /** near-duplicates only: another person of the household (same phone and surname, another device): a hard negative. */
  relatives: number;
  /** Varies every draw: two states give two different tables of the same shape (0: the documented seed). */
  randomState: number;
}

/** The production finding: 100,000 rows carry 8,069 surplus rows, the largest group has 39. */
export const DEMO_ROWS = 100_000;
const PRODUCTION_SURPLUS_RATE = 8_069 / DEMO_ROWS;
const LARGEST_GROUP = 39;

/** Resubmissions with typos, per row (near-duplicates): about a third of the exact key's surplus again. */
const NEAR_DUPLICATE_RATE = 0.03;
const RELATIVE_RATE = 0.005;

export function planSeed(rows: number, scenario: SeedScenario = 'production', randomState = 0): SeedPlan {
  if (!Number.isInteger(rows) || rows < 100) throw new RangeError('rows must be an integer of at least 100');
  if (!Number.isInteger(randomState) || randomState < 0) throw new RangeError('randomState must be a whole number');
  const surplus = Math.round(rows * PRODUCTION_SURPLUS_RATE);
  const production = scenario !== 'webhook-race';
  const extras = production ? Math.round(rows * 0.01) : 0;
  const nullPhones = production ? 2 * Math.round(rows * 0.001) : 0;
  const nearDuplicates = scenario === 'near-duplicates' ? Math.round(rows * NEAR_DUPLICATE_RATE) : 0;
  const relatives = scenario === 'near-duplicates' ? Math.round(rows * RELATIVE_RATE) : 0;
  const groupSizes = planGroupSizes(surplus, Math.min(LARGEST_GROUP, surplus + 1));
  const baseKeys = rows - surplus - 2 * extras - nullPhones - nearDuplicates - relatives;
  const devices = Math.max(8, Math.round(rows / 50));
  return {
    rows,
    scenario,
    devices,
    users: Math.max(2, Math.floor(devices / 4)),
    baseKeys,
    groupSizes,
    surplus,
    largestGroup: groupSizes[0] ?? 0,
    formatVariants: extras,
    siblingReuses: extras,
    nullPhones,
    nearDuplicates,
    relatives,
    randomState,
  };
}

/**
 * Group sizes with the skew seen in production: one group of `largest`, then
 * Pareto-distributed sizes (about 70% pairs), the last one trimmed so the
 * surplus comes out exact. Deterministic: a golden-ratio sequence, no RNG.
 */
export function planGroupSizes(surplus: number, largest: number): number[] {
  if (surplus <= 0) return [];
  const sizes = [largest];
  let remaining = surplus - (largest - 1);
  for (let i = 1; remaining > 0; i++) {
    const u = (i * 0.6180339887498949 + 0.1234) % 1;
    const pareto = Math.floor((1 / (1 - u)) ** (1 / 1.75)) + 1;
    const size = Math.min(pareto, largest - 1, remaining + 1);
    sizes.push(size);
    remaining -= size - 1;
  }
  return sizes;
}
