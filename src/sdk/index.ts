// Producer SDK: send events to a Tracklane source topic, encoded with the registry schema.
// Importing it has no side effect: no signal handler, no connection, until createTracker().
export { createTracker } from './tracker';
export type { Tracker, MemoryTracker, CloseReport } from './tracker-types';
export type { TrackerOptions, MemoryTrackerOptions, EventFieldOptions } from './options';
export type { TrackEvent } from './stamp';
export { withTraceparent, currentTraceparent } from './trace-context';
export { uuidv7, uuidv7Time } from './uuidv7';
// What track() and close() reject with; match on `code` (docs/errors.md).
export { TracklaneError, DataError, InfrastructureError, UserError } from '../errors';
