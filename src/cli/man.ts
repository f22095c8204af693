// The man pages of tcpcopy and intercept, made from the same option table as -h (groups, flags,
// help texts) plus the examples and exit codes: roff text, pure. scripts/make-man.mjs writes them
// to man/ at build time; the package installs them (package.json "man").
import type { Command, Option } from 'commander';

export interface ManPageMeta {
  readonly name: string;
  readonly version: string;
  /** One line for NAME. */
  readonly summary: string;
  /** SYNOPSIS after the command name, plain text. */
  readonly synopsis: string;
  /** DESCRIPTION paragraphs, plain text. */
  readonly description: readonly string[];
  readonly examples: readonly (readonly [string, string])[];
  readonly seeAlso: readonly string[];
}

/** Plain text as roff text: backslashes escaped, '-' as a minus, no control line by accident. */
function roff(text: string): string {
  const t = text.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

function optionLine(o: Option): string {
  const names = o.flags.split(/[ ,|]+/).filter((w) => w.startsWith('-'));
  const arg = /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags);
  const flags = names.map((n) => `\\fB${roff(n)}\\fR`).join(', ');
  return arg === null ? flags : `${flags} \\fI${roff(arg[1] ?? arg[2] ?? '')}\\fR`;
}

const EXIT_CODES: readonly (readonly [number, string])[] = [
  [
    0,
    "What was asked happened (a replay of the capture's sessions; a live run stopped by SIGINT or SIGTERM; -h, -v, help).",
  ],
  [
    1,
    'A failure while running: intercept unreachable or lost, the memory limit, a capture or send error, a pid file naming a running process.',
  ],
  [
    2,
    'Bad input, found before any work: an unknown flag or bad value, a missing secret, an unreadable or corrupt capture file, a log, pid or report path that cannot be written.',
  ],
  [3, 'Offline replay: nothing matched (no client packet of the -x ports, or no session could start).'],
  [4, 'Offline replay: the target refused, reset or never answered sessions.'],
];

export function manPage(program: Command, meta: ManPageMeta): string {
  const out: string[] = [];
  const upper = meta.name.toUpperCase();
  out.push(`.TH ${upper} 1 "" "${meta.name} ${roff(meta.version)}" "User Commands"`);
  out.push('.SH NAME', `${meta.name} \\- ${roff(meta.summary)}`);
  out.push('.SH SYNOPSIS', `.B ${meta.name}`, roff(meta.synopsis));
  out.push('.SH DESCRIPTION');
  meta.description.forEach((p, i) => {
    if (i > 0) out.push('.PP');
    out.push(roff(p));
  });
  out.push('.SH OPTIONS');
  const groups = new Map<string, Option[]>();
  for (const o of program.options) {
    if (o.hidden) continue;
    const g = o.helpGroupHeading ?? 'Options:';
    const list = groups.get(g) ?? [];
    list.push(o);
    groups.set(g, list);
  }
  for (const [heading, opts] of groups) {
    out.push(`.SS ${roff(heading.replace(/:$/, ''))}`);
    for (const o of opts) out.push('.TP', optionLine(o), roff(o.description));
    // -h is commander's own, not in the option list: it belongs with -v.
    if (heading === 'Options:')
      out.push('.TP', '\\fB\\-h\\fR, \\fB\\-\\-help\\fR', 'print the help and exit (also: the \\fBhelp\\fR command)');
  }
  out.push('.SH EXAMPLES');
  for (const [what, cmd] of meta.examples) out.push('.PP', roff(`${what}:`), '.RS', '.nf', roff(cmd), '.fi', '.RE');
  out.push('.SH EXIT STATUS');
  for (const [code, what] of EXIT_CODES) out.push('.TP', `.B ${code}`, roff(what));
  out.push(
    '.SH SEE ALSO',
    meta.seeAlso
      .map((s, i) => `.BR ${s.replace(/\((\d)\)$/, ' ($1)')}${i < meta.seeAlso.length - 1 ? ' ,' : ''}`)
      .join('\n'),
  );
  return `${out.join('\n')}\n`;
}

/** tcpcopy(1) and intercept(1): the tools' own option tables and examples. */
export async function toolManPages(): Promise<{ name: string; text: string }[]> {
  const { toolProgram } = await import('./program.js');
  const { INTERCEPT_EXAMPLES, TCPCOPY_EXAMPLES, addInterceptOptions, addTcpcopyOptions } =
    await import('./options/index.js');
  const { VERSION } = await import('../version.js');
  const tcpcopy = manPage(addTcpcopyOptions(toolProgram('tcpcopy', '')), {
    name: 'tcpcopy',
    version: VERSION,
    summary: 'copy live TCP requests from an online server to a test server, packet by packet',
    synopsis: '-x [onlineIP:]port-targetIP:targetPort[,...] -s interceptIP[:port][,...] [options]',
    description: [
      "tcpcopy runs on an online (production) server. It captures the requests that clients send to the ports given with -x, rewrites them to the target (test) server and sends them as raw IP packets that keep the real client address, emulating each client's side of TCP towards the target. The target's replies never reach the clients: they are routed to intercept, which returns their headers to tcpcopy over an authenticated channel.",
      'The same install replays capture files (--offline, over raw packets with intercept or over ordinary sockets with --transport socket) and records traffic (--record).',
    ],
    examples: TCPCOPY_EXAMPLES,
    seeAlso: ['intercept(1)', 'tcpdump(8)'],
  });
  const intercept = manPage(addInterceptOptions(toolProgram('intercept', '')), {
    name: 'intercept',
    version: VERSION,
    summary: "capture the target server's responses and return their headers to tcpcopy",
    synopsis: "-F 'tcp and src port PORT' [options] | --nfqueue PORT[,...] [options]",
    description: [
      "intercept runs on an assistant server that the target routes its replies to the clients through (advanced mode), or on the target itself with --nfqueue (traditional mode). It captures the target's replies, keeps them from the clients, and returns each reply's headers to the tcpcopy that registered the session.",
    ],
    examples: INTERCEPT_EXAMPLES,
    seeAlso: ['tcpcopy(1)', 'iptables(8)'],
  });
  return [
    { name: 'tcpcopy.1', text: tcpcopy },
    { name: 'intercept.1', text: intercept },
  ];
}
