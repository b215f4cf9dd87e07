// Producer SDK: send events to a Tracklane source topic, encoded with the registry schema.
export { createTracker, type Tracker, type TrackerOptions, type TrackEvent } from './tracker';
export { withTraceparent, currentTraceparent } from './trace-context';
export { uuidv7, uuidv7Time } from './uuidv7';
