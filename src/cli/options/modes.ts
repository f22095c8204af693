// Options that only mean something in some modes are refused, with the reason, in the others —
// never silently ignored. Modes: live or offline replay, over raw packets with intercept (packet
// transport) or over ordinary sockets (socket transport). Pure.

import { OptionError } from './errors.js';
import type { TcpcopyRawOptions } from './tcpcopy-raw.js';

export interface Mode {
  readonly offline: boolean;
  readonly transport: 'packet' | 'socket';
}

type Key = keyof TcpcopyRawOptions;

export interface Rule {
  readonly key: Key;
  readonly flag: string;
  /** The modes where the option does not apply. */
  readonly refusedIn: (m: Mode) => boolean;
  readonly why: string;
}

const socket = (m: Mode): boolean => m.transport === 'socket';
const offline = (m: Mode): boolean => m.offline;
const live = (m: Mode): boolean => !m.offline;
const offlineSocket = (m: Mode): boolean => m.offline && m.transport === 'socket';
const liveSocket = (m: Mode): boolean => !m.offline && m.transport === 'socket';

const SOCKET_CONNECTS = '--transport socket connects to the target itself';
const RULES: readonly Rule[] = [
  { key: 'intercept', flag: '-s', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'interceptPort', flag: '-p', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'connections', flag: '-C', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'lonely', flag: '-L', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'lonelyGrace', flag: '--lonely-grace', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'tcpcopy1', flag: '--tcpcopy1', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  {
    key: 'clientIp',
    flag: '-c',
    refusedIn: socket,
    why: `${SOCKET_CONNECTS} from this machine's own addresses: client addresses belong to the packet transport`,
  },
  {
    key: 'portFactor',
    flag: '-f',
    refusedIn: socket,
    why: `${SOCKET_CONNECTS}: the kernel chooses its client ports`,
  },
  {
    key: 'localhostIp',
    flag: '-H',
    refusedIn: socket,
    why: `${SOCKET_CONNECTS} from this machine's own addresses: client addresses belong to the packet transport`,
  },
  {
    key: 'outputDevice',
    flag: '-o',
    refusedIn: socket,
    why: `${SOCKET_CONNECTS} through the kernel's TCP: there are no packets to send at the data link`,
  },
  {
    key: 'mtu',
    flag: '-M',
    refusedIn: socket,
    why: `${SOCKET_CONNECTS} through the kernel's TCP, which sizes its own segments`,
  },
  {
    key: 'mss',
    flag: '-D',
    refusedIn: socket,
    why: `${SOCKET_CONNECTS} through the kernel's TCP, which sizes its own segments`,
  },
  {
    key: 'synOnly',
    flag: '-O',
    refusedIn: socket,
    why: '--transport socket opens a connection for every session: there is no SYN to require',
  },
  {
    key: 'wait',
    flag: '-W',
    refusedIn: socket,
    why: '--transport socket takes turns with the target by design: it always waits for the reply',
  },
  {
    key: 'keepaliveTimeout',
    flag: '-k',
    refusedIn: socket,
    why: '--transport socket closes each connection when its captured session is replayed',
  },
  {
    key: 'maxBacklog',
    flag: '--max-backlog',
    refusedIn: socket,
    why: '--transport socket holds no backlog of captured packets: sessions wait in the kernel',
  },
  {
    key: 'daemon',
    flag: '-d',
    refusedIn: offline,
    why: 'an offline replay runs in the foreground: it ends by itself and prints its report',
  },
  {
    key: 'pidFile',
    flag: '-P',
    refusedIn: offline,
    why: 'an offline replay ends by itself: there is no running service to name in a pid file',
  },
  {
    key: 'maxMemory',
    flag: '-m',
    refusedIn: offline,
    why: 'an offline replay is bounded by its file: the memory watch is for live runs',
  },
  {
    key: 'lonely',
    flag: '-L',
    refusedIn: offline,
    why: 'an offline replay waits --lonely-grace for intercept, then replays or gives up',
  },
  {
    key: 'filter',
    flag: '-F',
    refusedIn: offline,
    why: 'an offline replay reads its file: no capture to filter (the -x ports select the packets)',
  },
  {
    key: 'bufferSize',
    flag: '-B',
    refusedIn: offline,
    why: 'an offline replay reads its file: there is no capture buffer',
  },
  {
    key: 'snaplen',
    flag: '-S',
    refusedIn: offline,
    why: 'an offline replay reads its file: its packets are as long as they were captured',
  },
  { key: 'daemon', flag: '-d', refusedIn: liveSocket, why: 'live --transport socket runs in the foreground so far' },
  {
    key: 'user',
    flag: '--user',
    refusedIn: (m) => m.offline || m.transport === 'socket',
    why: 'only a live replication over raw packets needs root: run the others as the user you want',
  },
  { key: 'pidFile', flag: '-P', refusedIn: liveSocket, why: 'live --transport socket writes no pid file so far' },
  { key: 'maxMemory', flag: '-m', refusedIn: liveSocket, why: 'live --transport socket has no memory watch so far' },
  {
    key: 'statsInterval',
    flag: '--stats-interval',
    refusedIn: socket,
    why: '--transport socket prints one report at the end',
  },
  {
    key: 'metrics',
    flag: '--metrics',
    refusedIn: (m) => m.offline || m.transport === 'socket',
    why: 'metrics are served by live replication over the packet transport so far (offline and --transport socket print a report)',
  },
  {
    key: 'http',
    flag: '--http',
    refusedIn: (m) => m.offline || m.transport === 'socket',
    why: 'the dashboard shows live replication over the packet transport so far',
  },
  {
    key: 'record',
    flag: '--record',
    refusedIn: (m) => m.offline || m.transport === 'socket',
    why: "--record records live traffic beside the packet transport's replication, or alone (without --offline and --transport socket)",
  },
  {
    key: 'responses',
    flag: '--responses',
    refusedIn: (m) => m.transport === 'packet',
    why: "the packet transport sees only the headers of the target's replies (from intercept): --responses needs --transport socket",
  },
  {
    key: 'pps',
    flag: '--pps',
    refusedIn: live,
    why: "a live replay runs at the online server's pace: rate caps are for offline replay (--offline FILE)",
  },
  {
    key: 'rps',
    flag: '--rps',
    refusedIn: live,
    why: "a live replay runs at the online server's pace: rate caps are for offline replay (--offline FILE)",
  },
  {
    key: 'pps',
    flag: '--pps',
    refusedIn: socket,
    why: "--transport socket sends through the kernel's TCP, which makes the packets: cap its requests with --rps",
  },
  {
    key: 'logFile',
    flag: '-l',
    refusedIn: offlineSocket,
    why: 'an offline replay over sockets logs nothing: its report goes to standard output',
  },
];

/** Throws OptionError CONFLICT for the first option given that does not apply in `mode`. */
export function checkModeOptions(raw: TcpcopyRawOptions, mode: Mode): void {
  for (const r of RULES) {
    if (raw[r.key] === undefined || !r.refusedIn(mode)) continue;
    // -W is commander's negation: given means wait === false.
    if (r.key === 'wait' && raw.wait !== false) continue;
    if (
      (r.key === 'lonely' || r.key === 'synOnly' || r.key === 'daemon' || r.key === 'tcpcopy1') &&
      raw[r.key] !== true
    )
      continue;
    throw new OptionError('CONFLICT', `${r.flag} does not apply here: ${r.why}`);
  }
}

/** The rules, for the documentation and the tests. */
export const MODE_RULES: readonly Rule[] = RULES;
