// examples/ssf-receiver: the small SSF receiver built on the bridge's SET checks. SETs signed
// with npm jose: a good one is answered 202 and printed as a JSON line; a tampered one is
// 400 invalid_key, another audience invalid_audience, another issuer invalid_issuer, another
// media type invalid_request (in the language asked for); then end to end, a push stream of
// the bridge's transmitter delivering to the example. It stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { BUILD_DIR, LSAN_SUPPRESSIONS, SANITIZE, requireFile } from './lib/env.mjs';
import { freePort } from './lib/net.mjs';
import { makeTempDir, removeTempDir } from './lib/tmp.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const BIN = path.join(BUILD_DIR, 'examples', 'ssf-receiver', 'mqpush-ssf-receiver');
const REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const ISS = 'https://idp.example.com/';
const AUD = 'https://push.example.com/ssf/receive/demo';

async function until(fn, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await fn())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
    }
}

/** The example on its own loopback port; lines() are the accepted SETs it printed. */
class Receiver {
    async start({ issuer, audience, jwksFile }) {
        requireFile(BIN, 'mqpush-ssf-receiver');
        this.port = await freePort();
        const env = { ...process.env };
        if (SANITIZE) {
            env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0';
            if (fs.existsSync(LSAN_SUPPRESSIONS)) env.LSAN_OPTIONS = `suppressions=${LSAN_SUPPRESSIONS}`;
        }
        this.stdout = '';
        this.stderr = '';
        this.exited = null;
        const args = ['--listen', `127.0.0.1:${this.port}`, '--issuer', issuer, '--audience', audience, '--jwks', jwksFile];
        this.proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        this.proc.stdout.on('data', (d) => (this.stdout += d));
        this.proc.stderr.on('data', (d) => (this.stderr += d));
        this.exitP = once(this.proc, 'exit').then(([code, signal]) => (this.exited = { code, signal }));
        await until(() => {
            if (this.exited) throw new Error(`exited at start: ${JSON.stringify(this.exited)}\n${this.stderr}`);
            return /listening on 127\.0\.0\.1:\d+/.test(this.stderr);
        }, 'the receiver to listen');
        return this;
    }

    get url() {
        return `http://127.0.0.1:${this.port}/`;
    }

    lines() {
        return this.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    }

    push(set, headers = {}) {
        return fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/secevent+jwt', ...headers },
            body: set,
        });
    }

    /** SIGTERM; resolves once it exited 0 without sanitizer reports. */
    async stop() {
        if (this.exited) return;
        this.proc.kill('SIGTERM');
        await Promise.race([this.exitP, sleep(10000)]);
        if (!this.exited) this.proc.kill('SIGKILL');
        assert.deepEqual(this.exited, { code: 0, signal: null }, this.stderr);
        assert.doesNotMatch(this.stderr, /Sanitizer|runtime error/);
    }

    kill() {
        if (this.proc && !this.exited) this.proc.kill('SIGKILL');
    }
}

describe('SETs signed with jose', () => {
    let dir;
    let rx;
    let key;
    const kid = 'k1';

    const sign = (claims, { k = key.privateKey, header = {} } = {}) =>
        new jose.SignJWT({ iss: ISS, aud: AUD, iat: Math.floor(Date.now() / 1000), sub_id: { format: 'opaque', id: 'alice' }, events: { [REVOKED]: { reason: 'admin' } }, ...claims })
            .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid, ...header })
            .sign(k);

    before(async () => {
        dir = await makeTempDir('ssfrx');
        key = await jose.generateKeyPair('ES256');
        const jwk = { ...(await jose.exportJWK(key.publicKey)), kid, alg: 'ES256', use: 'sig' };
        fs.writeFileSync(path.join(dir, 'tx.jwks.json'), JSON.stringify({ keys: [jwk] }));
        rx = await new Receiver().start({ issuer: ISS, audience: AUD, jwksFile: path.join(dir, 'tx.jwks.json') });
    });

    after(async () => {
        try {
            await rx?.stop();
        } finally {
            rx?.kill();
            await removeTempDir(dir);
        }
    });

    test('a good SET: 202 and printed', async () => {
        const res = await rx.push(await sign({ jti: 'good-1' }));
        assert.equal(res.status, 202);
        assert.equal(await res.text(), '');
        await until(() => rx.lines().some((l) => l.jti === 'good-1'), 'the printed SET');
        const line = rx.lines().find((l) => l.jti === 'good-1');
        assert.equal(line.iss, ISS);
        assert.equal(line.aud, AUD);
        assert.equal(line.type, REVOKED);
        assert.deepEqual(line.sub_id, { format: 'opaque', id: 'alice' });
        assert.deepEqual(line.event, { reason: 'admin' });
    });

    test('tampered claims: 400 invalid_key, nothing printed', async () => {
        const [h, , s] = (await sign({ jti: 'tampered' })).split('.');
        const forged = Buffer.from(JSON.stringify({ iss: ISS, aud: AUD, iat: 1, jti: 'tampered', sub_id: { format: 'opaque', id: 'mallory' }, events: { [REVOKED]: {} } })).toString('base64url');
        const res = await rx.push(`${h}.${forged}.${s}`);
        assert.equal(res.status, 400);
        assert.equal((await res.json()).err, 'invalid_key');
        // another key with the same kid
        const other = await jose.generateKeyPair('ES256');
        const res2 = await rx.push(await sign({ jti: 'other-key' }, { k: other.privateKey }));
        assert.equal((await res2.json()).err, 'invalid_key');
        await sleep(100);
        assert.ok(!rx.lines().some((l) => l.jti === 'tampered' || l.jti === 'other-key'));
    });

    test('another audience, issuer, media type; descriptions in the language asked for', async () => {
        const res = await rx.push(await sign({ jti: 'aud', aud: 'someone-else' }));
        assert.equal(res.status, 400);
        const body = await res.json();
        assert.equal(body.err, 'invalid_audience');
        assert.equal(typeof body.description, 'string');
        assert.equal(res.headers.get('content-language'), 'en');
        const iss = await rx.push(await sign({ jti: 'iss', iss: 'https://evil.example/' }));
        assert.equal((await iss.json()).err, 'invalid_issuer');
        const ct = await rx.push(await sign({ jti: 'ct' }), { 'content-type': 'application/jwt', 'accept-language': 'de-CH, en;q=0.5' });
        assert.equal(ct.status, 400);
        assert.equal((await ct.json()).err, 'invalid_request');
        assert.equal(ct.headers.get('content-language'), 'de');
        const typ = await rx.push(await sign({ jti: 'typ' }, { header: { typ: 'JWT' } }));
        assert.equal((await typ.json()).err, 'invalid_request');
        assert.equal((await fetch(rx.url)).status, 405);
        assert.equal(rx.lines().length, 1);
    });
});

describe('end to end from the bridge', () => {
    let w;
    let bridge;
    let pub;
    let rx;

    before(async () => {
        w = await createWorld({
            label: 'ssfrxe2e',
            tenants: { t: { streams: [stream('security', { subscriberRoles: ['reader'], events: [ev('auth', 'logout')] })] } },
        });
        bridge = await new Bridge(w, {
            extra: {
                outbound: { allow: ['127.0.0.0/8'] },
                ssf: { transmitter: { streams: [{ tenant: 't', stream: 'security', events: [{ namespace: 'auth', name: 'logout', type: REVOKED, subject_path: 'payload.user' }] }] } },
            },
        }).start();
        pub = await publisher(w, 't');
    });

    after(async () => {
        try {
            await rx?.stop();
        } finally {
            rx?.kill();
            await shutdown({ pub, bridge, world: w });
        }
    });

    test('a push stream to the example: the event printed, verified with the JWKS', async () => {
        const meta = await (await fetch(`${bridge.url}/.well-known/ssf-configuration/ssf/t`)).json();
        const jwks = await (await fetch(meta.jwks_uri)).text();
        fs.writeFileSync(path.join(w.dir, 'tx.jwks.json'), jwks);
        const recv = await w.token('t', { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 3600 });
        rx = await new Receiver().start({ issuer: meta.issuer, audience: 'receiver-1', jwksFile: path.join(w.dir, 'tx.jwks.json') });
        const body = JSON.stringify({ events_requested: [REVOKED], delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rx.url } });
        const r = await request(bridge.port, meta.configuration_endpoint.replace(/^https?:\/\/[^/]+/, ''), {
            method: 'POST',
            headers: { authorization: `Bearer ${recv}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            body,
        });
        assert.equal(r.status, 201, r.body);
        await pub.publish('auth', 'logout', { payload: { user: 'alice', reason: 'admin' } });
        await until(() => rx.lines().length === 1, 'the printed SET');
        const [line] = rx.lines();
        assert.equal(line.iss, meta.issuer);
        assert.equal(line.type, REVOKED);
        assert.deepEqual(line.sub_id, { format: 'opaque', id: 'alice' });
        assert.equal(line.event.reason, 'admin');
        assert.ok(line.jti.endsWith(`.${JSON.parse(r.body).stream_id}`));
        const m = await bridge.metrics();
        assert.equal(m['mqpush_bridge_push_total{channel="set",result="delivered"}'], 1);
    });
});
