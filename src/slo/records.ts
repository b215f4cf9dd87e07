// The SLI-window and alert records moved to window/records.ts (window/store.ts persists both,
// and slo/ -> window/ is the only direction between the two folders). Kept for importers.
export * from '../window/records';
