import { describe, expect, test } from 'vitest';
import { formatDuration, formatSize, gridSchema, MAX_DURATION_MS, parseDuration, parseSize, UnitError } from '../../schema/index.js';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1_500],
    ['0s', 0],
    [' 5s ', 5_000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '5', '5 s', '5sec', '-5s', 's', '1m 30s', '1d', '5S', 'ms5'])('refuses %j naming the field', (text) => {
    const error = catchError(() => parseDuration(text, '--heartbeat-interval'));
    expect(error).toBeInstanceOf(UnitError);
    expect(error).toMatchObject({ code: 'SPEC_UNIT', field: '--heartbeat-interval' });
    expect((error as Error).message).toMatch(/^--heartbeat-interval: must be a duration/);
  });

  test('refuses durations timers cannot hold', () => {
    expect(parseDuration('596h')).toBeLessThanOrEqual(MAX_DURATION_MS);
    const error = catchError(() => parseDuration('600h', 'monitoring.replaceAfter'));
    expect(error).toMatchObject({ code: 'SPEC_UNIT', field: 'monitoring.replaceAfter' });
  });

  test('formatDuration round-trips', () => {
    for (const ms of [0, 1, 500, 1_000, 1_500, 90_000, 3_600_000, 3_723_004]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(500)).toBe('500ms');
    expect(() => formatDuration(-1)).toThrow(RangeError);
  });
});

describe('parseSize', () => {
  test.each([
    ['256Mi', 256],
    ['2Gi', 2048],
    ['1Ti', 1024 * 1024],
    ['512Ki', 1],
    ['1536Ki', 2],
    ['1.5Gi', 1536],
    ['256M', 245], // 256e6 bytes = 244.14 MiB, rounded up
    ['1G', 954],
    ['1000k', 1],
    [512, 512],
  ] as const)('%s -> %d MiB', (text, mib) => {
    expect(parseSize(text)).toBe(mib);
  });

  test.each(['512', '', 'Mi', '2 Gi', '2gi', '2GB', '-1Mi', '0Mi', '0.0Gi'])('refuses %j naming the field', (text) => {
    const error = catchError(() => parseSize(text, 'clusters[0].memory'));
    expect(error).toMatchObject({ code: 'SPEC_UNIT', field: 'clusters[0].memory' });
    expect((error as Error).message.startsWith('clusters[0].memory: ')).toBe(true);
  });

  test('0.0001Ki still rounds up to 1 MiB rather than being refused as zero', () => {
    // Rounding up means only a literal zero is below 1 MiB.
    expect(() => parseSize('0.0001Ki')).not.toThrow();
  });

  test.each([0, -1, 1.5, Number.NaN])('refuses the number %d', (value) => {
    expect(catchError(() => parseSize(value, 'memory'))).toMatchObject({ code: 'SPEC_UNIT', field: 'memory' });
  });

  test('formatSize picks the largest binary unit that divides', () => {
    expect(formatSize(2048)).toBe('2Gi');
    expect(formatSize(384)).toBe('384Mi');
    expect(formatSize(1024 * 1024)).toBe('1Ti');
    expect(formatSize(0)).toBe('0Mi');
    for (const mib of [1, 256, 1536, 4096]) expect(parseSize(formatSize(mib))).toBe(mib);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('units and the schema agree', () => {
  const corpus = ['5s', '500ms', '1m30s', '1.5h', '0s', '5', '5 s', 's', '1d', '2Mi', '2Gi', '256M', '1.5Ki', '7T', '512', '2GB', '2gi', ' 5s', 'Mi', '1e3Mi'];

  test('a string matches the duration pattern exactly when parseDuration accepts it', () => {
    const pattern = new RegExp(gridSchema.$defs.duration.pattern);
    for (const text of corpus.filter((t) => t.trim() === t)) {
      expect({ text, parses: accepts(() => parseDuration(text)) }).toEqual({ text, parses: pattern.test(text) });
    }
  });

  test('a string matches the size pattern exactly when parseSize accepts it', () => {
    const pattern = new RegExp(gridSchema.$defs.size.pattern);
    for (const text of corpus.filter((t) => t.trim() === t)) {
      expect({ text, parses: accepts(() => parseSize(text)) }).toEqual({ text, parses: pattern.test(text) });
    }
  });
});

function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
