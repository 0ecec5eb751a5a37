/** The strict Prometheus text parser the metrics tests rely on refuses what Prometheus would. */
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from './support/prom-text.js';

const GOOD = [
  '# HELP a_total Things.',
  '# TYPE a_total counter',
  'a_total{x="1",y="q\\"uote\\\\"} 3',
  '# TYPE h histogram',
  'h_bucket{le="0.5"} 1',
  'h_bucket{le="+Inf"} 2',
  'h_sum 0.7',
  'h_count 2',
  '',
].join('\n');

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes, and histograms', () => {
    const m = parsePrometheusText(GOOD);
    expect(m.get('a_total')).toMatchObject({ type: 'counter', help: 'Things.' });
    expect(m.get('a_total')!.samples[0]!.labels).toEqual({ x: '1', y: 'q"uote\\' });
    expect(sampleValue(m, 'h_count')).toBe(2);
    expect(sampleValue(m, 'nothing')).toBe(0);
  });

  it.each([
    ['a sample before its TYPE', 'x 1\n'],
    ['a bad value', '# TYPE x gauge\nx one\n'],
    ['an unquoted label', '# TYPE x gauge\nx{a=1} 1\n'],
    ['a bad escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['a repeated series', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['a negative counter', '# TYPE x_total counter\nx_total -1\n'],
    ['a second TYPE', '# TYPE x gauge\n# TYPE x gauge\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf not equal to _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ['a sample of another family', '# TYPE x gauge\ny 1\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
