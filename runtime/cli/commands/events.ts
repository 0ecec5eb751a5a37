import type { Command } from 'commander';
import type { MasterSwitch } from '../../../client/index.js';
import { parseDuration } from '../../../schema/units.js';
import { ConfigError } from '../../errors.js';
import { eventJson, formatWireEvent } from '../event-stream.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { intFlag } from './parse-flags.js';
import { DEFAULT_LIST_LIMIT } from '../../events/index.js';
import { abortOnSignal } from '../run-until-signal.js';

interface EventsFlags {
  readonly type?: string[];
  readonly agent?: string;
  readonly node?: string;
  readonly cluster?: string;
  readonly since?: string;
  readonly sinceIndex?: string;
  readonly limit?: string;
  readonly follow?: boolean;
}

/** The line `events --follow` prints on stderr when its watch moves to another master. */
export function switchLine(to: MasterSwitch, from: string): string {
  const who = to.leading
    ? `leader since ${to.leaderSinceMs > 0 ? new Date(to.leaderSinceMs).toISOString() : 'just now'}`
    : `a follower; ${to.leader !== '' ? `the leader is ${to.leader}` : 'no master leads yet'}`;
  return `-- now following master ${to.address} (${who}); master ${from} was lost`;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').filter((v) => v !== '')];

/**
 * `sutra-grid events [--type T] [--agent A] [--node N] [--cluster C] [--since 10m] [--follow] [--json]`.
 * With `--follow`, the listed events are followed by a watch from the next index: no gap, no repeat.
 */
export function registerEventsCommand(program: Command): void {
  addClientOptions(
    program
      .command('events')
      .description('list lifecycle events, optionally following new ones')
      .option('--type <type>', 'only this event type (repeatable, or comma-separated)', collect)
      .option('--agent <id>', 'only events of this agent')
      .option('--node <id>', 'only events of this node')
      .option('--cluster <name>', 'only events of this cluster')
      .option('--since <duration>', 'only events newer than this, e.g. 10m')
      .option('--since-index <n>', 'only events from this index on')
      .option('--limit <n>', 'at most this many events (default 1000)')
      .option('--follow', 'keep printing new events until interrupted'),
  ).action(async (flags: EventsFlags, cmd: Command) => {
    let sinceUs = 0;
    if (flags.since !== undefined) {
      try {
        sinceUs = (Date.now() - parseDuration(flags.since, '--since')) * 1000;
      } catch (err) {
        throw new ConfigError('--since', `must be a duration like 30s, 10m or 2h, got "${flags.since}"`, { cause: err });
      }
    }
    const filter = { types: flags.type ?? [], agentId: flags.agent ?? '', nodeId: flags.node ?? '', cluster: flags.cluster ?? '' };
    const request = { filter, sinceIndex: intFlag(flags.sinceIndex, '--since-index', 0), sinceUs, untilUs: 0, limit: intFlag(flags.limit, '--limit', 0) };
    await withMaster(cmd, async (master, settings) => {
      const listed = await master.call('listEvents', request);
      const print = settings.json
        ? (e: (typeof listed.events)[number]) => process.stdout.write(`${JSON.stringify(eventJson(e))}\n`)
        : (e: (typeof listed.events)[number]) => process.stdout.write(`${formatWireEvent(e)}\n`);
      if (!flags.follow) {
        if (settings.json) printJson({ events: listed.events.map(eventJson), firstIndex: listed.firstIndex, lastIndex: listed.lastIndex });
        else if (listed.events.length === 0) process.stdout.write('(no events)\n');
        else listed.events.forEach(print);
        return;
      }
      listed.events.forEach(print);
      // A list cut short by its limit continues after its last event, not after the log's end.
      const last = listed.events[listed.events.length - 1];
      const limited = listed.events.length >= (request.limit || DEFAULT_LIST_LIMIT);
      const from = limited && last !== undefined ? last.index + 1 : Math.max(listed.lastIndex, request.sinceIndex - 1) + 1;
      const stop = abortOnSignal();
      try {
        await master.watchEvents(from, filter, {
          onEvent: print,
          onTruncated: (requested, start) => process.stderr.write(`events ${requested}-${start - 1} were removed by retention; following from ${start}\n`),
          // Several masters: the watch went on at another one, from the next index.
          onSwitch: (to, from) => process.stderr.write(`${switchLine(to, from)}\n`),
        }, stop.signal);
      } finally {
        stop.dispose();
      }
    });
  });
}
