import { UsageError } from '../../errors.js';

/** A connection string or service file libpq would refuse; the message is libpq's own wording. */
export class ConninfoError extends UsageError {}
