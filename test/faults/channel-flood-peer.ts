// A hostile channel peer for the flood test (run in the client namespace): for SECONDS it opens
// connections to intercept's port at RATE per second, each one of five kinds — silent (holds its slot
// until intercept's authentication timeout), random bytes, a HELLO with a wrong authenticator, a frame
// announcing a huge body, a REGISTER before authentication — keeping at most MAX_OPEN open. Prints
// a JSON line of what it did and what intercept answered. usage: node channel-flood-peer.js HOST PORT SECONDS [RATE]
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FrameDecoder, PeerRole, encodeMessage } from '../../src/channel/index.js';
import type { ChannelMessage } from '../../src/channel/index.js';

const [host = '127.0.0.1', portText = '36524', secondsText = '8', rateText = '400'] = process.argv.slice(2);
const port = Number(portText);
const seconds = Math.min(Number(secondsText), 30);
const rate = Math.min(Number(rateText), 2000);
const MAX_OPEN = 300;
const kinds = ['silent', 'garbage', 'bad-mac', 'huge-frame', 'register-first'] as const;
const figures = {
  opened: 0,
  errors: 0,
  refusedWithError: 0,
  closedByIntercept: 0,
  welcomed: 0,
  byKind: {} as Record<string, number>,
};
let open = 0;

function one(kind: (typeof kinds)[number]): void {
  open++;
  figures.opened++;
  figures.byKind[kind] = (figures.byKind[kind] ?? 0) + 1;
  const s = connect({ host, port });
  const d = new FrameDecoder();
  s.on('data', (c: Buffer) => {
    try {
      d.push(c, (m: ChannelMessage) => {
        if (m.type === 'error') figures.refusedWithError++;
        if (m.type === 'welcome') figures.welcomed++;
        if (m.type === 'challenge') {
          if (kind === 'bad-mac')
            s.write(
              encodeMessage({
                type: 'hello',
                version: 1,
                role: PeerRole.TCPCOPY,
                instanceId: 'x',
                mac: randomBytes(32),
              }),
            );
        }
      });
    } catch {
      // not our concern: intercept's answers are well-formed
    }
  });
  s.on('connect', () => {
    if (kind === 'garbage') s.write(randomBytes(200));
    if (kind === 'huge-frame') s.write(Buffer.from([1, 4, 0xff, 0xff, 0, 0, 0]));
    if (kind === 'register-first')
      s.write(
        encodeMessage({
          type: 'register',
          session: { family: 4, clientIp: '10.77.0.1', clientPort: 40000, targetIp: '10.77.0.3', targetPort: 8080 },
        }),
      );
  });
  s.on('error', () => figures.errors++);
  s.on('close', (hadError) => {
    open--;
    if (!hadError) figures.closedByIntercept++;
  });
  // Nobody stays longer than 6 s (intercept's authentication timeout is 5 s).
  s.setTimeout(6000, () => s.destroy());
}

const end = Date.now() + seconds * 1000;
let k = 0;
const timer = setInterval(() => {
  if (Date.now() >= end) {
    clearInterval(timer);
    const wait = setInterval(() => {
      if (open === 0 || Date.now() > end + 8000) {
        clearInterval(wait);
        console.log(JSON.stringify(figures));
        process.exit(0);
      }
    }, 100);
    return;
  }
  for (let i = 0; i < rate / 20 && open < MAX_OPEN; i++) one(kinds[k++ % kinds.length]!);
}, 50);
