import type { Topology } from './types';

/** Fields a topology treats as personal data: pseudonymized ones, and what consent strips. */
export function personalFields(topology: Topology): { pseudonymized: string[]; strippable: string[] } {
  const pseudonymized = topology.enrich.flatMap((s) => (s.kind === 'pseudonymize' ? s.fields : []));
  const strippable = topology.enrich.flatMap((s) => (s.kind === 'consent' ? s.fields ?? pseudonymized : []));
  return { pseudonymized, strippable };
}
