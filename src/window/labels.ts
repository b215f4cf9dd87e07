// A label set (groupBy field -> value) and its canonical text form. The text form names Redis
// keys and dedup keys, so it must be the same on every instance: fields sorted, each part
// percent-encoded (no ':', '|', '&' or '=' survive unencoded), '' for no labels.

export type Labels = Record<string, string>;

export function labelsKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(labels[k])}`)
    .join('&');
}

export function parseLabelsKey(key: string): Labels {
  const labels: Labels = {};
  if (key === '') return labels;
  for (const part of key.split('&')) {
    const eq = part.indexOf('=');
    labels[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
  }
  return labels;
}

/** "region=eu, zone=a" for summaries and logs. */
export function describeLabels(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(', ');
}
