/** Readable units for reasons and rendering; the plan's text must read the same on every run. */

/** `90000` -> `1m30s`, `300000` -> `5m`, `1500` -> `1.5s`, `250` -> `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return `${Number.isInteger(totalSeconds) ? totalSeconds : totalSeconds.toFixed(1)}s`;
  const s = Math.floor(totalSeconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return (h > 0 ? `${h}h` : '') + (m > 0 ? `${m}m` : '') + (sec > 0 ? `${sec}s` : '');
}

/** `256` -> `256 MiB`, `2048` -> `2 GiB`. */
export function formatMemory(mb: number): string {
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GiB` : `${mb} MiB`;
}

/** `{zone: 'b', disk: 'ssd'}` -> `disk=ssd,zone=b` (sorted, so stable). */
export function formatSelector(selector: Readonly<Record<string, string>>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

/** Lists at most `max` items, then `and N more`, so a 1,000-agent grid keeps one readable line. */
export function listSome(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
