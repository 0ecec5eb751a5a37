import type { WireEvent } from '../../client/index.js';
import { isoMicros } from '../events/index.js';

/** One readable line per event, e.g. `2026-11-26T09:30:00.123456Z #42 warning NodeCrashed kg-1 ...`. */
export function formatWireEvent(e: WireEvent): string {
  const series = e.count > 1 ? ` [x${e.count}, last ${isoMicros(e.lastSeenUs)}]` : '';
  return `${isoMicros(e.timestampUs)} #${e.index} ${e.severity.padEnd(7)} ${e.type} ${e.message}${series}`;
}

/** An event as `--json` prints it: the wire fields, payload parsed. */
export function eventJson(e: WireEvent): Record<string, unknown> {
  let payload: unknown = {};
  try {
    payload = e.payloadJson === '' ? {} : JSON.parse(e.payloadJson);
  } catch {
    payload = e.payloadJson;
  }
  const { payloadJson: _omit, ...rest } = e;
  return { ...rest, payload };
}
