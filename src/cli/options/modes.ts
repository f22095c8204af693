// Options that only mean something in some modes are refused, with the reason, in the others —
// never silently ignored. Modes: live or offline replay, over raw packets with intercept (packet
// transport) or over ordinary sockets (socket transport). Pure.

import { OptionError } from './errors.js';
import type { TcpcopyRawOptions } from './tcpcopy-config.js';

export interface Mode {
  readonly offline: boolean;
  readonly transport: 'packet' | 'socket';
}

type Key = keyof TcpcopyRawOptions;

interface Rule {
  readonly key: Key;
  readonly flag: string;
  /** The modes where the option does not apply. */
  readonly refusedIn: (m: Mode) => boolean;
  readonly why: string;
}

const socket = (m: Mode): boolean => m.transport === 'socket';
const offline = (m: Mode): boolean => m.offline;
const offlineSocket = (m: Mode): boolean => m.offline && m.transport === 'socket';

const SOCKET_CONNECTS = '--transport socket connects to the target itself';
const RULES: readonly Rule[] = [
  { key: 'intercept', flag: '-s', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'interceptPort', flag: '-p', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'connections', flag: '-C', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'lonely', flag: '-L', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'lonelyGrace', flag: '--lonely-grace', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'tcpcopy1', flag: '--tcpcopy1', refusedIn: socket, why: `${SOCKET_CONNECTS}: no intercept is used` },
  { key: 'clientIp', flag: '-c', refusedIn: socket, why: `${SOCKET_CONNECTS} from this machine's own addresses: client addresses belong to the packet transport` },
  { key: 'outputDevice', flag: '-o', refusedIn: socket, why: `${SOCKET_CONNECTS} through the kernel's TCP: there are no packets to send at the data link` },
  { key: 'mtu', flag: '-M', refusedIn: socket, why: `${SOCKET_CONNECTS} through the kernel's TCP, which sizes its own segments` },
  { key: 'mss', flag: '-D', refusedIn: socket, why: `${SOCKET_CONNECTS} through the kernel's TCP, which sizes its own segments` },
  { key: 'synOnly', flag: '-O', refusedIn: socket, why: '--transport socket opens a connection for every session: there is no SYN to require' },
  { key: 'wait', flag: '-W', refusedIn: socket, why: '--transport socket takes turns with the target by design: it always waits for the reply' },
  { key: 'keepaliveTimeout', flag: '-k', refusedIn: socket, why: '--transport socket closes each connection when its captured session is replayed' },
  { key: 'maxBacklog', flag: '--max-backlog', refusedIn: socket, why: '--transport socket holds no backlog of captured packets: sessions wait in the kernel' },
  { key: 'copies', flag: '-n', refusedIn: socket, why: 'copies of sessions are made by the packet transport only so far' },
  { key: 'percentage', flag: '-r', refusedIn: socket, why: 'sampling of sessions is done by the packet transport only so far' },
  { key: 'sessionTimeout', flag: '-t', refusedIn: socket, why: '--transport socket bounds each session by its own 10 s timeout so far' },
  { key: 'daemon', flag: '-d', refusedIn: offline, why: 'an offline replay runs in the foreground: it ends by itself and prints its report' },
  { key: 'pidFile', flag: '-P', refusedIn: offline, why: 'an offline replay ends by itself: there is no running service to name in a pid file' },
  { key: 'maxMemory', flag: '-m', refusedIn: offline, why: 'an offline replay is bounded by its file: the memory watch is for live runs' },
  { key: 'logFile', flag: '-l', refusedIn: offlineSocket, why: 'an offline replay over sockets logs nothing: its report goes to standard output' },
  { key: 'statsInterval', flag: '--stats-interval', refusedIn: offlineSocket, why: 'an offline replay over sockets prints one report at the end' },
];

/** Throws OptionError CONFLICT for the first option given that does not apply in `mode`. */
export function checkModeOptions(raw: TcpcopyRawOptions, mode: Mode): void {
  for (const r of RULES) {
    if (raw[r.key] === undefined || !r.refusedIn(mode)) continue;
    // -W is commander's negation: given means wait === false.
    if (r.key === 'wait' && raw.wait !== false) continue;
    if ((r.key === 'lonely' || r.key === 'synOnly' || r.key === 'daemon' || r.key === 'tcpcopy1') && raw[r.key] !== true) continue;
    throw new OptionError('CONFLICT', `${r.flag} does not apply here: ${r.why}`);
  }
}

/** The rules, for the documentation and the tests. */
export const MODE_RULES: readonly { readonly flag: string; readonly key: Key; readonly why: string }[] = RULES;
