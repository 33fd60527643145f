// Web Push message encryption (RFC 8291) checked by an independent implementation: the
// bridge's encoder (driven through tests/tools/webpush_encrypt) encrypts for fresh user-agent
// key pairs made here, and npm http_ece decrypts what it produced, as a browser would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import ece from 'http_ece';
import { BUILD_DIR, requireFile } from './lib/env.mjs';

const TOOL = path.join(BUILD_DIR, 'tests', 'webpush_encrypt');
const b64u = (b) => Buffer.from(b).toString('base64url');

/** A user agent's subscription keys, and what it needs to decrypt. */
function userAgent() {
    const ecdh = crypto.createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = crypto.randomBytes(16);
    return { ecdh, p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth), authBuf: auth };
}

function encrypt(ua, plaintext, pad = 0) {
    requireFile(TOOL, 'webpush_encrypt');
    const r = spawnSync(TOOL, [ua.p256dh, ua.auth, String(pad)], { input: plaintext });
    return { status: r.status, body: Buffer.from(r.stdout.toString().trim(), 'base64url'), err: r.stderr.toString() };
}

function decrypt(ua, body) {
    return ece.decrypt(body, { version: 'aes128gcm', privateKey: ua.ecdh, authSecret: ua.authBuf });
}

test('bodies of every size decrypt with http_ece, with and without padding', () => {
    for (const [size, pad] of [[0, 0], [1, 0], [41, 0], [200, 100], [1000, 0], [3993, 0], [3000, 993]]) {
        const ua = userAgent();
        const plain = crypto.randomBytes(size);
        const { status, body, err } = encrypt(ua, plain, pad);
        assert.equal(status, 0, err);
        assert.equal(body.length, 86 + size + 1 + pad + 16, `size ${size} pad ${pad}`);
        assert.ok(body.length <= 4096);
        assert.deepEqual(decrypt(ua, body), plain, `size ${size} pad ${pad}`);
    }
});

test('each message has its own salt and ephemeral key', () => {
    const ua = userAgent();
    const a = encrypt(ua, Buffer.from('same')).body;
    const b = encrypt(ua, Buffer.from('same')).body;
    assert.notDeepEqual(a.subarray(0, 16), b.subarray(0, 16));
    assert.notDeepEqual(a.subarray(21, 86), b.subarray(21, 86));
    assert.equal(a.readUInt32BE(16), 4096);
    assert.equal(a[20], 65);
    assert.deepEqual(decrypt(ua, a), Buffer.from('same'));
    assert.deepEqual(decrypt(ua, b), Buffer.from('same'));
});

test('another subscription cannot read it; a tampered body fails', () => {
    const ua = userAgent();
    const other = userAgent();
    const { body } = encrypt(ua, Buffer.from('secret'));
    assert.throws(() => decrypt(other, body));
    const bad = Buffer.from(body);
    bad[bad.length - 1] ^= 1;
    assert.throws(() => decrypt(ua, bad));
});

test('refused: a key that is not on the curve, more than one record can carry', () => {
    const ua = userAgent();
    const key = Buffer.from(ua.p256dh, 'base64url');
    key[64] ^= 1;
    const r = encrypt({ ...ua, p256dh: b64u(key) }, Buffer.from('x'));
    assert.equal(r.status, 1);
    assert.match(r.err, /not a P-256 point/);
    const big = encrypt(ua, crypto.randomBytes(3994));
    assert.equal(big.status, 1);
    assert.match(big.err, /too large/);
});
