// Auth responses: mysql_native_password checked the way the server checks it (from the stored
// SHA1(SHA1(password)) alone), and client_ed25519 checked three ways: against Node's own Ed25519
// for 32-byte passwords (where MariaDB's scheme is RFC 8032 with the password as seed), by
// verifying signatures for passwords of other lengths, and by fixed vectors. The official client's
// bytes for both plugins are compared in test/mysql/real-exchanges.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  authResponse,
  clientEd25519,
  ed25519PublicKey,
  MysqlProtocolError,
  nativePassword,
} from '../../src/mysql/index.js';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();

/** Deterministic bytes for test inputs (no Math.random: a failure must be repeatable). */
function bytes(seed: number, n: number): Buffer {
  return createHash('sha512').update(`seed ${seed}`).digest().subarray(0, n);
}

describe('nativePassword', () => {
  test('the server recovers SHA1(password) from the response and the stored hash, and it matches', () => {
    for (const pw of ['natpw', 'p', 'päss wörd', 'x'.repeat(200)]) {
      const scramble = bytes(pw.length, 20);
      const stored = sha1(sha1(Buffer.from(pw)));
      const response = nativePassword(pw, scramble);
      assert.equal(response.length, 20);
      const mask = sha1(Buffer.concat([scramble, stored]));
      const stage1 = Buffer.from(response.map((b, i) => b ^ mask[i]!));
      assert.ok(sha1(stage1).equals(stored), pw);
    }
  });

  test('a fixed vector, the 21st byte of a switch nonce ignored, the empty password empty', () => {
    // Vector from Python's hashlib, computed apart from this code.
    const scramble = Buffer.from('0102030405060708090a0b0c0d0e0f1011121314', 'hex');
    const expected = 'b32bb3a583e1340c0a1108d58b1be49781ad8c2f';
    assert.equal(nativePassword('secret', scramble).toString('hex'), expected);
    assert.equal(nativePassword('secret', Buffer.concat([scramble, Buffer.from([0])])).toString('hex'), expected);
    assert.equal(nativePassword('', scramble).length, 0);
    assert.throws(() => nativePassword('x', scramble.subarray(0, 8)), MysqlProtocolError);
  });
});

/** Node's Ed25519 key from a 32-byte seed (PKCS#8 wrapping per RFC 8410). */
function nodeKey(seed: Buffer) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

describe('clientEd25519', () => {
  test('a 32-byte password signs exactly as RFC 8032 with it as the seed (Node crypto)', () => {
    for (let i = 0; i < 20; i++) {
      const pw = bytes(i, 32);
      const nonce = bytes(1000 + i, 32);
      assert.ok(clientEd25519(pw, nonce).equals(sign(null, nonce, nodeKey(pw))), `seed ${i}`);
    }
  });

  test('passwords of any length give signatures that verify under ed25519PublicKey', () => {
    for (const len of [0, 1, 5, 19, 31, 33, 64, 200]) {
      const pw = bytes(len, 64).toString('base64').repeat(4).slice(0, len);
      const nonce = bytes(2000 + len, 32);
      const sig = clientEd25519(pw, nonce);
      assert.equal(sig.length, 64);
      assert.ok(ed25519.verify(sig, nonce, ed25519PublicKey(pw), { zip215: false }), `length ${len}`);
      assert.ok(!ed25519.verify(sig, bytes(3000 + len, 32), ed25519PublicKey(pw)), `length ${len}, other nonce`);
    }
  });

  test('a fixed vector; the nonce must be 32 bytes', () => {
    // From a separate Python transcription of RFC 8032 section 5.1 (affine Edwards arithmetic, no
    // library) with SHA-512 of the password as the expanded secret.
    const nonce = Buffer.alloc(32, 0x42);
    assert.equal(
      clientEd25519('secret', nonce).toString('hex'),
      'e5dda76f34b2228215fd2dd81dc7374ac5f7c94467b09fc47b87215b1c70872e' +
        '737356e47b70e5741eab24fa28ab7826618e3382ed7274c5698a69dbf91bb70e',
    );
    assert.throws(() => clientEd25519('secret', nonce.subarray(0, 31)), MysqlProtocolError);
  });
});

describe('authResponse', () => {
  test('dispatches on the plugin name, null for the ones it cannot answer', () => {
    const nonce = bytes(7, 32);
    assert.ok(authResponse('mysql_native_password', 'pw', nonce)!.equals(nativePassword('pw', nonce)));
    assert.ok(authResponse('client_ed25519', 'pw', nonce)!.equals(clientEd25519('pw', nonce)));
    for (const p of [
      'caching_sha2_password',
      'sha256_password',
      'dialog',
      'mysql_old_password',
      'mysql_clear_password',
    ]) {
      assert.equal(authResponse(p, 'pw', nonce), null, p);
    }
  });
});
