// The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/, level 1):
//   version "-" trace-id "-" parent-id "-" trace-flags, all lower-case hex:
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
// - version ff is forbidden; version 00 is exactly these 55 characters;
// - a later version may append fields: its first 55 characters are read as version 00's and
//   must be followed by the end or a "-";
// - an all-zero trace-id or parent-id is invalid; upper-case hex is invalid.
// An invalid header is treated as absent by its callers, who count it by `reason`.

export interface Traceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

/** Bounded: the label values of tracklane_correlation_invalid_total{reason} (with field_too_long). */
export type TraceparentProblem = 'malformed' | 'unsupported_version' | 'zero_trace_id' | 'zero_parent_id';

export type ParsedTraceparent = { ok: true; value: Traceparent } | { ok: false; reason: TraceparentProblem };

const VERSION_00_LENGTH = 55;
const FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

export function parseTraceparent(header: string): ParsedTraceparent {
  const version = header.slice(0, 2);
  if (version === 'ff') return { ok: false, reason: 'unsupported_version' };
  const later = /^[0-9a-f]{2}$/.test(version) && version !== '00';
  if (header.length !== VERSION_00_LENGTH && !(later && header.length > VERSION_00_LENGTH && header[VERSION_00_LENGTH] === '-')) {
    return { ok: false, reason: 'malformed' };
  }
  const match = FIELDS.exec(header.slice(0, VERSION_00_LENGTH));
  if (!match) return { ok: false, reason: 'malformed' };
  const [, v, traceId, parentId, flags] = match;
  if (traceId === ZERO_TRACE_ID) return { ok: false, reason: 'zero_trace_id' };
  if (parentId === ZERO_PARENT_ID) return { ok: false, reason: 'zero_parent_id' };
  return { ok: true, value: { version: v, traceId, parentId, flags } };
}

/** The trace id of a valid header (the correlation id), else undefined. */
export function traceIdFromTraceparent(header: string): string | undefined {
  const parsed = parseTraceparent(header);
  return parsed.ok ? parsed.value.traceId : undefined;
}
