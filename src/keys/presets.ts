import type { KeyDefinition } from './key-definition.js';

/** The candidate rules from the duplicate analysis, in the order scan shows them. */
export const PRESET_KEYS: readonly KeyDefinition[] = [
  { name: 'device-phone', columns: ['device_id', 'phone'] },
  { name: 'device-phone-niche', columns: ['device_id', 'phone', 'niche'] },
  { name: 'device-user-phone-niche', columns: ['device_id', 'user_id', 'phone', 'niche'] },
  { name: 'user-phone', columns: ['user_id', 'phone'] },
  { name: 'phone', columns: ['phone'] },
];
