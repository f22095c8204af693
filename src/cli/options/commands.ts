// The command-line definitions of tcpcopy's and intercept's options (commander): short and long
// names, help text and defaults as shown in --help. Values stay strings here; validation is in
// tcpcopy-config.ts / intercept-config.ts so it can be tested without a parser.

import { Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULT_INTERCEPT_PORT, SECRET_ENV, TCPCOPY_DEFAULTS } from './tcpcopy-config.js';
import { DEFAULT_REPLY_PAYLOAD_BYTES, MAX_REPLY_PAYLOAD_BYTES } from './intercept-config.js';
import type { InterceptConfig } from './intercept-config.js';
import type { TcpcopyConfig } from './tcpcopy-config.js';

const d = TCPCOPY_DEFAULTS;

/** Adds tcpcopy's replication options (and the hidden --print-config) to `cmd`. */
export function addTcpcopyOptions(cmd: Command): Command {
  return cmd
    .optionsGroup('Live replication (on the online server):')
    .option(
      '-x, --transfer <list>',
      'required: [onlineIP:]port-targetIP:targetPort,... (IPv6 in brackets; [ip:]port@mac-ip:port@mac for data-link sending; one online port listed with several targets goes to each)',
    )
    .option('-i, --interface <devs>', 'capture devices, comma-separated (default: all)')
    .option('-F, --filter <bpf>', 'capture filter (default: built from -x)')
    .option(
      '-o, --output-device <dev>',
      'send the copies at the data link of this device, bypassing IP routing and firewall (needs the MACs in -x)',
    )
    .option(
      '-B, --buffer-size <MB>',
      `capture buffer: the ring of -i any, 4× as socket buffer of a named device (default ${d.captureBufferMb})`,
    )
    .option('-S, --snaplen <bytes>', `capture snapshot length (default ${d.snaplenBytes})`)
    .option(
      '-M, --mtu <bytes>',
      `MTU towards the target; larger captured packets are re-segmented (default ${d.mtuBytes})`,
    )
    .option('-D, --mss <bytes>', `MSS of synthesized SYNs (default ${d.mssBytes})`)
    .option(
      '-t, --session-timeout <s>',
      `drop a session after this long without a response (default ${d.sessionTimeoutS}; --transport socket: ${d.socketSessionTimeoutS})`,
    )
    .option('-k, --keepalive-timeout <s>', `drop an idle session after this long (default: -t + ${d.keepaliveAddS})`)
    .option('-O, --syn-only', 'replay only sessions whose SYN was captured')
    .option('-W, --no-wait', 'send the next request without waiting for the previous response')
    .option(
      '--max-backlog <MB>',
      `captured bytes held for replay by all sessions together; past it the sessions furthest behind are reset and counted (default ${d.maxBacklogMb}, 0 = no bound)`,
    )
    .optionsGroup('Intercept channel:')
    .option('-s, --intercept <list>', 'required: intercept servers interceptIP[:port],...')
    .option('-p, --intercept-port <port>', `default port of the intercept servers (default ${DEFAULT_INTERCEPT_PORT})`)
    .option('-C, --connections <n>', `connections to each intercept, 1..11 (default ${d.connectionsPerIntercept})`)
    .option('--secret <secret>', `shared secret for intercept (default: $${SECRET_ENV})`)
    .option(
      '--secret-file <file>',
      'read the shared secret from the first line of this file (e.g. a systemd credential)',
    )
    .option(
      '--tcpcopy1',
      'talk to a C TCPCopy 1.x intercept in its own channel format (IPv4, NO authentication; --secret is not used)',
    )
    .option('-L, --lonely', 'keep running while no intercept is connected')
    .option(
      '--lonely-grace <s>',
      `without -L: exit after this long with no intercept connected (default ${d.lonelyGraceS})`,
    )
    .optionsGroup('MySQL / MariaDB (logins re-signed for the target):')
    .option(
      '--mysql <users>',
      "target passwords of the users that log in, user:password,... (they may differ from online's)",
    )
    .option('--mysql-file <file>', 'the same from a file, one user:password per line (# comments): out of argv')
    .option('--mysql-skip-grant', 'the target runs with --skip-grant-tables: logins pass as captured')
    .option(
      '--mysql-default <user[/db]>',
      'log in sessions joined mid-stream (login not captured) as this user when their client logged in nowhere yet',
    )
    .option(
      '--mysql-order-writes',
      "hold a write until the other sessions' writes of its row answered online before it are answered on the target (equal tables where writes do not commute; costs lag under hot rows)",
    )
    .optionsGroup('Rewriting (which sessions, how many copies, which client addresses):')
    .option(
      '-n, --copies <n>',
      `copies of each session, 1..1023, each on its own connection (default ${d.copies}; also --transport socket)`,
    )
    .option(
      '-f, --port-factor <n>',
      'several tcpcopy instances copying the same clients to one target: give each its own 0..1023, and their copies never share a client port (default 0; packet transport only)',
    )
    .option(
      '-r, --percentage <n>',
      `percentage of sessions copied, chosen by client address and port, 1..100 (default ${d.samplePercent}; also --transport socket)`,
    )
    .option(
      '-g, --ramp <seconds>',
      'the share of sessions copied grows from 1 % to the -r share over this many seconds from the first packet (also --transport socket)',
    )
    .option(
      '-c, --client-ip <list>',
      'replace client addresses with these (a.b.c.x = a.b.c.1-254, or address/prefix blocks; packet transport only)',
    )
    .option(
      '-H, --localhost-ip <addr>',
      'the client address the target sees for clients on a loopback address (127.0.0.0/8, ::1; packet transport only)',
    )
    .optionsGroup('Offline replay and recording:')
    .option(
      '--offline <file>',
      'replay this pcap/pcapng file instead of capturing (also -i FILE when FILE is a regular file)',
    )
    .option(
      '-a, --accelerate <n>',
      'offline: replay this many times faster than captured (> 0, may be fractional; default 1)',
    )
    .option('-I, --idle-compress <ms>', 'offline: cut idle gaps longer than this many ms to it')
    .option(
      '-T, --loops <n>',
      'offline: replay the file this many times (each loop shifts the client ports; default 1)',
    )
    .option('--top-speed', "offline: ignore the capture's timing, replay as fast as possible")
    .option(
      '--pps <n>',
      "offline, packet transport: release at most n packets per second (1..10000000), on top of the capture's timing or --top-speed",
    )
    .option(
      '--rps <n>',
      "offline: send at most n requests per second (1..10000000), on top of the capture's timing or --top-speed; a request: a session's first client data, then client data sent after more of the reply was received (the engine's pacing rule); over sockets, a turn",
    )
    .option('--report-json <file>', 'offline: also write the final report as JSON to this file')
    .option(
      '--strict-file',
      'offline: refuse a capture file cut short (by default it is replayed up to the cut, with a warning)',
    )
    .option(
      '--transport <kind>',
      "'packet' (raw send + intercept, default) or 'socket' (ordinary TCP connections to the target, no intercept, no root)",
    )
    .option(
      '--record <file>',
      'record both directions of the -x online ports to this pcapng file (without -s: record only, -x may be just [onlineIP:]port,...)',
    )
    .option(
      '--record-size <MB>',
      'with --record: start a new file at this size; files are then numbered FILE-0001.pcapng, FILE-0002.pcapng, ...',
    )
    .option(
      '--record-seconds <s>',
      'with --record: start a new file every this many seconds of capture time (numbered like --record-size)',
    )
    .option('--record-filter <bpf>', 'with --record: record what this capture filter selects instead of the -x ports')
    .optionsGroup('Output, daemon and configuration:')
    .option('-l, --log-file <file>', 'log file (default: standard error)')
    .option('--log-format <format>', "text (the C tool's lines, default) or json (one JSON object per record)")
    .option('-P, --pid-file <file>', 'pid file')
    .option('-d, --daemon', 'run as a daemon')
    .option(
      '--user <name>',
      'once the capture and raw sockets are open, run as this user keeping only CAP_NET_RAW (-l and -P are handed to it)',
    )
    .option(
      '-m, --max-memory <MB>',
      `memory bound: session and backlog bounds follow from it, and near it the oldest sessions are shed and counted (--record without -s: exit past it) (default ${d.maxMemoryMb})`,
    )
    .option('--stats-interval <s>', `seconds between statistics lines, 0 = only at exit (default ${d.statsIntervalS})`)
    .option(
      '--metrics <[addr:]port>',
      'serve Prometheus metrics (every statistics counter) at http://addr:port/metrics (a bare port: every address)',
    )
    .option(
      '--http <[addr:]port>',
      'serve a live dashboard at http://addr:port/ (ratio, rates, lag, sessions, intercept; with --compare-report latency histograms and differences), updated every second',
    )
    .option(
      '--responses <file>',
      "--transport socket: write each of the target's responses as a JSON line (session, turn, HTTP status line, bytes, timings)",
    )
    .option(
      '--config <file>',
      'read options from this JSON file, by their long names ({ "transfer": "80-10.0.0.2:8080", "session-timeout": 60 }); flags win',
    )
    .optionsGroup('Response comparison (HTTP/1.x, online vs target):')
    .option(
      '--compare-report <file>',
      "also capture the online server's responses and compare each with the target's (status, headers, body digest or JSON fields, latency); write the report to FILE at exit and a summary to the log",
    )
    .option(
      '--compare-headers <list>',
      'header fields compared, h1,h2,... (default content-type); needs --compare-report',
    )
    .option(
      '--compare-ignore-path <prefixes>',
      'requests whose path starts with one of these are not compared (counted as ignored), /health,/metrics; needs --compare-report',
    )
    .option(
      '--compare-noise <ip:port>',
      "a -x target running the online build (Diffy-style): differences it shows too are marked noise in the other targets' reports; needs --compare-report",
    )
    .option(
      '--compare-ignore-json <paths>',
      'JSON fields left out of the comparison, a.b,items.*.ts,... (* any key or index); needs --compare-report',
    )
    .addOption(new Option('--print-config', 'print the validated configuration as JSON and exit').hideHelp());
}

/** Adds intercept's options (and the hidden --print-config) to `cmd`. */
export function addInterceptOptions(cmd: Command): Command {
  return cmd
    .optionsGroup('Capture (advanced mode, on the assistant the target routes its replies to):')
    .option('-i, --interface <devs>', 'capture devices, comma-separated (default: all)')
    .option('-F, --filter <bpf>', "required: capture filter selecting the target's responses")
    .optionsGroup('Traditional mode (on the target):')
    .option(
      '--nfqueue <ports>',
      'traditional mode, on the target: queue the replies from these service ports (iptables NFQUEUE) instead of capturing, comma-separated',
    )
    .option('--queue-num <n>', 'with --nfqueue: the NFQUEUE number (default 0)')
    .option('-x, --passlist <ips>', 'with --nfqueue: client addresses whose replies still reach them, comma-separated')
    .optionsGroup('Channel to tcpcopy:')
    .option('-p, --port <port>', `port tcpcopy connects to (default ${DEFAULT_INTERCEPT_PORT})`)
    .option('-b, --bind <ip>', 'listen address (default: all)')
    .option('--secret <secret>', `shared secret for tcpcopy (default: $${SECRET_ENV})`)
    .option(
      '--reply-payload <bytes>',
      `most bytes of each reply's payload sent to the sessions that ask (tcpcopy --mysql), 0..${MAX_REPLY_PAYLOAD_BYTES}, 0 = headers only (default ${DEFAULT_REPLY_PAYLOAD_BYTES})`,
    )
    .option(
      '--secret-file <file>',
      'read the shared secret from the first line of this file (e.g. a systemd credential)',
    )
    .option(
      '--tcpcopy1',
      'serve a C TCPCopy 1.x tcpcopy in its own channel format (IPv4, NO authentication: limit peers with -b / --tcpcopy1-allow)',
    )
    .option(
      '--tcpcopy1-allow <ips>',
      'with --tcpcopy1: accept channel connections from these addresses only, comma-separated',
    )
    .optionsGroup('Output, daemon and configuration:')
    .option('-l, --log-file <file>', 'log file (default: standard error)')
    .option('--log-format <format>', "text (the C tool's lines, default) or json (one JSON object per record)")
    .option('-P, --pid-file <file>', 'pid file')
    .option('-d, --daemon', 'run as a daemon')
    .option(
      '--user <name>',
      'once the capture is open, run as this user keeping only CAP_NET_RAW (-l and -P are handed to it; not with --nfqueue)',
    )
    .option('--stats-interval <s>', `seconds between statistics lines, 0 = only at exit (default ${d.statsIntervalS})`)
    .option(
      '--metrics <[addr:]port>',
      'serve Prometheus metrics (every statistics counter) at http://addr:port/metrics (a bare port: every address)',
    )
    .option(
      '--config <file>',
      'read options from this JSON file, by their long names ({ "filter": "tcp and src port 8080" }); flags win',
    )
    .addOption(new Option('--print-config', 'print the validated configuration as JSON and exit').hideHelp());
}

/** JSON text of a configuration for --print-config; the secret is never printed. */
export function formatConfig(config: TcpcopyConfig | InterceptConfig): string {
  return JSON.stringify({ ...config, secret: config.secret === null ? null : '(set)' }, null, 2);
}

/** Examples at the end of -h and in the man pages. */
export const TCPCOPY_EXAMPLES: readonly (readonly [string, string])[] = [
  [
    'copy port 80 of this server to 10.0.0.2:8080, replies returned by intercept on 10.0.0.3',
    'tcpcopy -x 80-10.0.0.2:8080 -s 10.0.0.3 --secret-file /etc/tcpcopy/secret',
  ],
  ['twice the traffic, from other client addresses', 'tcpcopy -x 80-10.0.0.2:8080 -s 10.0.0.3 -n 2 -c 192.168.50.x'],
  [
    'replay a capture file over ordinary sockets (no root, no intercept)',
    'tcpcopy --offline traffic.pcapng --transport socket -x 80-10.0.0.2:8080',
  ],
  ['record the online traffic of port 80', 'tcpcopy --record traffic.pcapng -x 80'],
  ['options from a file, as the systemd unit does', 'tcpcopy --config /etc/tcpcopy/tcpcopy.json'],
];

export const INTERCEPT_EXAMPLES: readonly (readonly [string, string])[] = [
  [
    "on the assistant: capture the target's replies (port 8080), return their headers to tcpcopy",
    "intercept -F 'tcp and src port 8080' -i eth0 --secret-file /etc/tcpcopy/secret",
  ],
  [
    'on the target itself (traditional mode): queue the replies of port 8080, let 10.0.0.9 still get its own',
    'intercept --nfqueue 8080 -x 10.0.0.9 --secret-file /etc/tcpcopy/secret',
  ],
];

/** The examples as the text after -h's option list. */
export function examplesText(examples: readonly (readonly [string, string])[]): string {
  return `\nExamples:\n${examples.map(([what, cmd]) => `  # ${what}\n  ${cmd}\n`).join('')}\nExit codes: 0 done, 1 failed while running, 2 bad input, 3 nothing matched, 4 the target failed sessions.`;
}
