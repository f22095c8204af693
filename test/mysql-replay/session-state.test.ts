// The session state read from a client's captured commands (src/mysql-replay/session-state.ts): the
// commands that rebuild it, however the stream is cut into chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePacket } from '../../src/mysql/index.js';
import {
  MAX_STATE_COMMAND,
  MAX_STATE_SETS,
  NO_STATE,
  SessionStateReader,
  applyStateCommand,
  stateCommandList,
} from '../../src/mysql-replay/session-state.js';
import type { SessionStateCommands } from '../../src/mysql-replay/session-state.js';

const query = (text: string): Buffer => Buffer.concat([Buffer.of(0x03), Buffer.from(text)]);
const texts = (s: SessionStateCommands): string[] =>
  stateCommandList(s).map((p) => (p[0] === 0x03 ? p.toString('latin1', 1) : p.toString('hex')));

void test('applyStateCommand: the last database, the last option, the SETs in order; reset keeps the database', () => {
  let s = NO_STATE;
  for (const p of [
    query('USE a'),
    query('SET @x = 1'),
    Buffer.concat([Buffer.of(0x02), Buffer.from('b')]), // COM_INIT_DB b
    Buffer.from('1b0000', 'hex'), // COM_SET_OPTION multi-statements on
    query('SET names utf8mb4'),
    query('SET @x = 1'), // again: moves to the end
    query('SELECT 1'),
    query('SET GLOBAL max_connections = 10'),
    query('SET @y = 2; SELECT 1'),
  ])
    s = applyStateCommand(s, p);
  assert.deepEqual(texts(s), ['0262', '1b0000', 'SET names utf8mb4', 'SET @x = 1']);
  const same = applyStateCommand(s, query('SELECT 2'));
  assert.equal(same, s, 'a command that sets nothing keeps the very object');
  s = applyStateCommand(s, Buffer.of(0x1f)); // COM_RESET_CONNECTION
  assert.deepEqual(texts(s), ['0262']);
  for (let i = 0; i < MAX_STATE_SETS + 5; i++) s = applyStateCommand(s, query(`SET @v${i} = ${i}`));
  assert.equal(s.sets.length, MAX_STATE_SETS);
  assert.equal(s.sets[0]!.toString('latin1', 1), 'SET @v5 = 5', 'the oldest dropped');
});

void test('SessionStateReader: reads the commands of any cut of the stream, passes every chunk on unchanged', () => {
  const login = encodePacket(1, Buffer.alloc(60, 7));
  const packets = [
    login,
    encodePacket(0, query('USE shop')),
    encodePacket(0, query(`SELECT '${'x'.repeat(MAX_STATE_COMMAND + 10)}'`)), // too long to be state: skipped
    encodePacket(0, query('SET @tag = 42')),
    encodePacket(0, Buffer.from('17010000000001000000', 'hex')), // an execute
    encodePacket(0, query('SELECT 1')),
  ];
  const stream = Buffer.concat(packets);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
      const seen: SessionStateCommands[] = [];
      const r = new SessionStateReader({ initial: NO_STATE, changed: (s) => seen.push(s), framed: () => true });
      const out: Buffer[] = [];
      for (let i = 0; i + 1 < at.length; i++) {
        const data = stream.subarray(at[i], at[i + 1]);
        r.clientChunk({ seq: at[i]!, data, fin: false, onlineAck: 0, capturedMs: 0 }, (c) => {
          assert.equal(c.data, data, 'the very chunk');
          out.push(c.data);
        });
      }
      assert.deepEqual(Buffer.concat(out), stream);
      assert.deepEqual(
        seen.map(texts),
        [[], ['USE shop'], ['USE shop', 'SET @tag = 42']],
        'at its first command, then each change',
      );
    }),
  );
});

void test('SessionStateReader: a rebuilt session starts from its replayed state; no reading once not framed', () => {
  const initial = applyStateCommand(NO_STATE, query('USE shop'));
  let framed = true;
  const seen: SessionStateCommands[] = [];
  const r = new SessionStateReader({ initial, changed: (s) => seen.push(s), framed: () => framed });
  const emit = (): void => {};
  r.clientChunk({ seq: 0, data: encodePacket(0, query('SET @a = 1')), fin: false, onlineAck: 0, capturedMs: 0 }, emit);
  assert.deepEqual(seen.map(texts), [['USE shop'], ['USE shop', 'SET @a = 1']]);
  framed = false;
  r.clientChunk({ seq: 0, data: encodePacket(0, query('SET @b = 1')), fin: false, onlineAck: 0, capturedMs: 0 }, emit);
  assert.equal(seen.length, 2);
});

void test('SessionStateReader agrees with applyStateCommand over every command, however the stream is cut', () => {
  const words = [
    'USE a',
    'use b',
    ' SET @x = 1',
    '/* hint */ SET @y = 2',
    'set names utf8',
    'SELECT 1',
    'SETTLE',
    'US',
  ];
  const more = ['UPDATE t SET a = 1', 'INSERT INTO t VALUES (1)', 'SET GLOBAL x = 1', '# c\nUSE c', 'S', 'U', ''];
  const command = fc.oneof(
    fc.constantFrom(...words, ...more).map((text) => query(text)),
    fc.constantFrom(Buffer.from('1b0100', 'hex'), Buffer.of(0x1f), Buffer.from('0264', 'hex'), Buffer.of(0x0e)),
  );
  fc.assert(
    fc.property(fc.array(command, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 9 })), (cmds, sizes) => {
      let model = NO_STATE;
      for (const p of cmds) model = applyStateCommand(model, p);
      const stream = Buffer.concat(cmds.map((p) => encodePacket(0, p)));
      let last: SessionStateCommands = NO_STATE;
      const r = new SessionStateReader({ initial: NO_STATE, changed: (s) => (last = s), framed: () => true });
      let at = 0;
      for (let k = 0; at < stream.length; k++) {
        const n = sizes.length === 0 ? stream.length : sizes[k % sizes.length]!;
        const data = stream.subarray(at, at + n);
        r.clientChunk({ seq: at, data, fin: false, onlineAck: 0, capturedMs: 0 }, () => {});
        at += data.length;
      }
      assert.deepEqual(texts(last), texts(model));
    }),
  );
});
