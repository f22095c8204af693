// tcpcopy's side of the deployment diagnosis (pure: facts in, log lines out). intercept diagnoses
// what only it can see and says so in NOTICEs, which are logged here (each kind at most every
// `repeatMs`). tcpcopy itself notices two things: no intercept connection at all, and SYNs that get
// no SYN-ACK back through intercept while intercept has said nothing for `repeatMs` (then it lists
// the causes).
import type { NoticeMessage } from '../channel/index.js';
import type { SessionCounters } from '../session/index.js';
import type { LogLine } from '../log/index.js';

/**
 * The engine's running totals of SYNs sent to the target and connections established, and the authenticated channel
 * connections now.
 */
export interface DiagnosisFacts extends Pick<SessionCounters, 'sendSyn' | 'conns'> {
  connections: number;
}

export interface TcpcopyDiagnosisOptions {
  /** The intercepts, as `ip:port` texts, for the messages. */
  intercepts: readonly string[];
  /** How long a condition must last before it is reported. Default 5 s. */
  afterMs?: number;
  /** Least time between two reports of one kind. Default 30 s. */
  repeatMs?: number;
}

type Kind = 'notice' | 'unreachable' | 'noSynAck';

export class TcpcopyDiagnosis {
  private readonly o: Required<TcpcopyDiagnosisOptions>;
  private readonly lastReport = new Map<string, number>();
  private disconnectedSince: number | null = null;
  private stuckSince: number | null = null;
  private lastNoticeMs = -Infinity;
  private prev: DiagnosisFacts | null = null;

  constructor(o: TcpcopyDiagnosisOptions) {
    this.o = { afterMs: 5000, repeatMs: 30_000, ...o };
  }

  private due(kind: Kind, key: string, nowMs: number): boolean {
    const k = `${kind}:${key}`;
    const prev = this.lastReport.get(k);
    if (prev !== undefined && nowMs - prev < this.o.repeatMs) return false;
    this.lastReport.set(k, nowMs);
    return true;
  }

  /** A NOTICE from intercept `where`: the line to log, or null when it was logged recently. */
  onNotice(nowMs: number, m: NoticeMessage, where: string): LogLine | null {
    this.lastNoticeMs = nowMs;
    const server = where.replace(/#\d+$/, ''); // the same intercept over any of its -C connections
    if (!this.due('notice', `${server}:${m.code}`, nowMs)) return null;
    return { level: 'warn', text: `diagnosis from intercept ${server}: ${m.message}` };
  }

  /** Called about once a second with the current facts; returns what to log. */
  tick(nowMs: number, f: DiagnosisFacts): LogLine[] {
    const out: LogLine[] = [];
    if (f.connections > 0) this.disconnectedSince = null;
    else this.disconnectedSince ??= nowMs;
    if (
      this.disconnectedSince !== null &&
      nowMs - this.disconnectedSince >= this.o.afterMs &&
      this.due('unreachable', '', nowMs)
    ) {
      out.push({
        level: 'warn',
        text: `diagnosis: no connection to intercept (${this.o.intercepts.join(', ')}) for ${Math.round((nowMs - this.disconnectedSince) / 1000)} s: check that intercept runs there with the same --secret and that its TCP port is reachable from this host (firewall on the assistant: iptables -I INPUT -p tcp --dport <port> -j ACCEPT)`,
      });
    }
    const prev = this.prev;
    this.prev = { ...f };
    if (prev === null) return out;
    const synsWithoutAnswer = f.sendSyn > prev.sendSyn && f.conns === prev.conns;
    const answered = f.conns > prev.conns;
    if (answered || f.connections === 0) this.stuckSince = null;
    else if (synsWithoutAnswer) this.stuckSince ??= nowMs;
    if (
      this.stuckSince !== null &&
      nowMs - this.stuckSince >= this.o.afterMs &&
      nowMs - this.lastNoticeMs > this.o.repeatMs &&
      this.due('noSynAck', '', nowMs)
    ) {
      out.push({
        level: 'warn',
        text: `diagnosis: SYNs sent to the target for ${Math.round((nowMs - this.stuckSince) / 1000)} s got no SYN-ACK back through intercept. Check, in this order: the target routes the client addresses via the assistant (ip route on the target); intercept's -F matches the target's replies; IP forwarding is off on the assistant; the target service listens on the -x port`,
      });
    }
    return out;
  }
}
