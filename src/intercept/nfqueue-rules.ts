// The iptables rules of traditional intercept (--nfqueue): one per service port and family,
// `OUTPUT -p tcp --sport PORT -m comment --comment "tcpcopy-intercept queue=N" -j NFQUEUE
// --queue-num N --queue-bypass`. The comment tags the rule with its owner and queue so a restart
// after a crash finds and removes the stale ones in `iptables-save` output. Pure.

/** The comment every rule of ours carries, before " queue=N". */
export const RULE_TAG = 'tcpcopy-intercept';

/** Seconds iptables waits for the xtables lock (-w). */
export const XTABLES_WAIT_S = 5;

/** The comment naming intercept and the queue. */
export function ruleComment(queue: number): string {
  return `${RULE_TAG} queue=${queue}`;
}

/** The rule specification (chain and match/target arguments) queueing replies from `port`. */
export function nfqueueRuleSpec(port: number, queue: number): string[] {
  return [
    'OUTPUT',
    '-p',
    'tcp',
    '--sport',
    String(port),
    '-m',
    'comment',
    '--comment',
    ruleComment(queue),
    '-j',
    'NFQUEUE',
    '--queue-num',
    String(queue),
    '--queue-bypass',
  ];
}

/** iptables arguments that append (-A), insert first (-I), delete (-D) or check (-C) the rule. */
export function nfqueueRuleArgs(op: '-A' | '-I' | '-D' | '-C', port: number, queue: number): string[] {
  const [chain, ...rest] = nfqueueRuleSpec(port, queue);
  return ['-w', String(XTABLES_WAIT_S), op, chain ?? 'OUTPUT', ...rest];
}

/**
 * Splits one iptables-save rule line into arguments: words separated by spaces, double-quoted
 * strings with backslash escapes (iptables-save quotes comments that contain spaces).
 */
export function splitSaveLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) cur += line[++i] ?? '';
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** A rule of ours found in iptables-save output: its table, queue and the arguments deleting it. */
export interface TaggedRule {
  table: string;
  queue: number;
  /** iptables arguments: -w 5 -t TABLE -D CHAIN ... */
  deleteArgs: string[];
}

/**
 * The rules of ours in `iptables-save` output: every `-A` line whose comment is RULE_TAG + " queue=N",
 * for any N when `queue` is null, else only that queue. Other programs' rules are never returned.
 */
export function findTaggedRules(saveText: string, queue: number | null = null): TaggedRule[] {
  const found: TaggedRule[] = [];
  let table = 'filter';
  for (const raw of saveText.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    if (!line.startsWith('-A ')) continue;
    const args = splitSaveLine(line);
    const c = args.indexOf('--comment');
    const comment = c >= 0 ? args[c + 1] : undefined;
    const m = comment === undefined ? null : new RegExp(`^${RULE_TAG} queue=(\\d+)$`).exec(comment);
    if (!m) continue;
    const q = Number(m[1]);
    if (queue !== null && q !== queue) continue;
    found.push({ table, queue: q, deleteArgs: ['-w', String(XTABLES_WAIT_S), '-t', table, '-D', ...args.slice(1)] });
  }
  return found;
}
