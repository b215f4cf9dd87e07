import { bucketEnd, bucketStart, isLate } from '../../src/window/bucket';
import { describeLabels, labelsKey, parseLabelsKey } from '../../src/window/labels';
import { OTHER, capSeries, otherLabels, seriesLabels } from '../../src/window/series-cap';

const MIN = 60_000;

describe('buckets', () => {
  test('aligned to the epoch: [floor(t / b) * b, + b)', () => {
    expect(bucketStart(125_000, MIN)).toBe(120_000);
    expect(bucketEnd(125_000, MIN)).toBe(180_000);
    expect(bucketStart(120_000, MIN)).toBe(120_000);
    expect(bucketStart(119_999, MIN)).toBe(60_000);
    expect(bucketStart(-1, MIN)).toBe(-MIN);
  });

  test('late means the event\'s bucket is closed, not merely older than the watermark', () => {
    expect(isLate(125_000, MIN, null)).toBe(false);
    expect(isLate(125_000, MIN, 180_000)).toBe(true); // bucket [120k, 180k) closed
    expect(isLate(125_000, MIN, 120_000)).toBe(false); // still open
    expect(isLate(179_999, MIN, 179_000 - (179_000 % MIN))).toBe(false);
  });
});

describe('label sets', () => {
  test('canonical text: sorted, percent-encoded, reversible', () => {
    const labels = { zone: 'a b', region: 'eu:west|1&x=y' };
    const key = labelsKey(labels);
    expect(key).toBe('region=eu%3Awest%7C1%26x%3Dy&zone=a%20b');
    expect(labelsKey({ region: 'eu:west|1&x=y', zone: 'a b' })).toBe(key);
    expect(parseLabelsKey(key)).toEqual(labels);
    expect(labelsKey({})).toBe('');
    expect(parseLabelsKey('')).toEqual({});
    expect(describeLabels({ zone: 'a', region: 'eu' })).toBe('region=eu, zone=a');
  });

  test('groupBy values from the record; missing values are ""', () => {
    expect(seriesLabels(['region', 'tier', 'n'], { region: 'eu', n: 3, other: 1 })).toEqual({ region: 'eu', tier: '', n: '3' });
    expect(seriesLabels([], { region: 'eu' })).toEqual({});
  });

  test('capSeries: known, admit while below maxSeries, then __other__ for every groupBy label', () => {
    const known = new Set(['region=eu', 'region=us']);
    expect(capSeries('region=eu', known, 2)).toBe('known');
    expect(capSeries('region=ap', known, 3)).toBe('admit');
    expect(capSeries('region=ap', known, 2)).toBe('other');
    expect(otherLabels(['region', 'zone'])).toEqual({ region: OTHER, zone: OTHER });
  });
});
