// The Shared Signals transmitter, first part: its signing keys (read with npm jose), the
// per-tenant Transmitter Configuration Metadata (SSF 1.0 section 7) and the stream management
// API (section 8) with every status code, streams kept across a restart, RS256 keys of at
// least 2048 bits, and a key rotation that keeps the old key in the JWKS for the overlap.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import { Bridge, request, shutdown } from './lib/bridge.mjs';
import { keygen } from './lib/tokens.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';

let w;
let bridge;
let recv; // a tenant token with role ssf-receiver
let other; // tenant u's token with the role
let noRole;
let admin;

function api(b, method, path, { token = recv, body, raw } = {}) {
    const text = raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (text !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(text);
    }
    return request(b.port, path, { method, headers, body: text });
}

const json = (r) => JSON.parse(r.body);

before(async () => {
    w = await createWorld({
        label: 'ssftx',
        tenants: {
            t: {
                streams: [
                    stream('security', { subscriberRoles: ['reader'], events: [ev('auth', 'logout'), ev('auth', 'password-changed')] }),
                ],
            },
            u: { streams: [stream('other', { subscriberRoles: ['reader'], events: [ev('app', 'x')] })] },
        },
    });
    recv = await w.token('t', { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 3600 });
    other = await w.token('u', { sub: 'receiver-u', roles: ['ssf-receiver'], ttl: 3600 });
    noRole = await w.token('t', { sub: 'reader-1', roles: ['reader'], ttl: 3600 });
    admin = await w.token('service', { sub: 'ops', roles: ['mqpush-admin'], ttl: 3600 });
    bridge = await new Bridge(w, {
        extra: {
            ssf: {
                transmitter: {
                    key_overlap_s: 3600,
                    streams: [
                        { tenant: 't', stream: 'security', events: [{ namespace: 'auth', name: 'logout', type: REVOKED, subject_path: 'payload.user' }] },
                        { tenant: 'u', stream: 'other' },
                    ],
                },
            },
        },
    }).start();
});

after(async () => {
    await shutdown({ bridge, world: w });
});

describe('discovery and keys', () => {
    test('well-known configuration of tenant t', async () => {
        const base = bridge.url;
        const r = await request(bridge.port, '/.well-known/ssf-configuration/ssf/t');
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'], /application\/json/);
        const m = json(r);
        assert.deepEqual(m, {
            spec_version: '1_0',
            issuer: `${base}/ssf/t`,
            jwks_uri: `${base}/jwks.json`,
            delivery_methods_supported: [PUSH, POLL],
            configuration_endpoint: `${base}/ssf/t/streams`,
            status_endpoint: `${base}/ssf/t/streams/status`,
            add_subject_endpoint: `${base}/ssf/t/streams/subjects:add`,
            remove_subject_endpoint: `${base}/ssf/t/streams/subjects:remove`,
            verification_endpoint: `${base}/ssf/t/streams/verify`,
            authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
        });
        for (const v of Object.values(m)) if (Array.isArray(v)) assert.ok(v.length > 0);
        // SSF 7.2: the well-known name goes between the host and the issuer's path.
        const u = new URL(m.issuer);
        assert.equal(`${u.origin}/.well-known/ssf-configuration${u.pathname}`, `${base}/.well-known/ssf-configuration/ssf/t`);
        const legacy = await request(bridge.port, '/.well-known/sse-configuration/ssf/t');
        assert.equal(legacy.status, 200);
        assert.deepEqual(json(legacy), m);
    });

    test('unknown tenant, other paths and methods', async () => {
        for (const p of ['/.well-known/ssf-configuration/ssf/nobody', '/.well-known/ssf-configuration', '/.well-known/ssf-configuration/t']) {
            const r = await request(bridge.port, p);
            assert.equal(r.status, 404, p);
            assert.equal(json(r).error, 'not_found');
        }
        assert.equal((await request(bridge.port, '/jwks.json', { method: 'POST', headers: { 'content-length': 0 } })).status, 405);
    });

    test('JWKS: public ES256 key whose kid is its RFC 7638 thumbprint', async () => {
        const r = await request(bridge.port, '/jwks.json');
        assert.equal(r.status, 200);
        const { keys } = json(r);
        assert.equal(keys.length, 1);
        const k = keys[0];
        assert.equal(k.kty, 'EC');
        assert.equal(k.crv, 'P-256');
        assert.equal(k.alg, 'ES256');
        assert.equal(k.use, 'sig');
        assert.equal(k.d, undefined);
        assert.equal(k.kid, await jose.calculateJwkThumbprint(k, 'sha256'));
        await jose.importJWK(k, 'ES256');
        const set = jose.createRemoteJWKSet(new URL(`${bridge.url}/jwks.json`));
        const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
        void publicKey;
        // A token under another key is refused by the remote set: it does hold only ours.
        const foreign = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: k.kid }).sign(privateKey);
        await assert.rejects(jose.jwtVerify(foreign, set), /signature verification failed/);
    });
});

describe('stream management', () => {
    let id;

    test('401 without or with a bad token, 403 without the role or for another tenant', async () => {
        let r = await api(bridge, 'GET', '/ssf/t/streams', { token: null });
        assert.equal(r.status, 401);
        assert.equal(json(r).error, 'auth_required');
        r = await api(bridge, 'GET', '/ssf/t/streams', { token: `${recv.slice(0, -4)}AAAA` });
        assert.equal(r.status, 401);
        assert.equal(json(r).error, 'auth_failed');
        assert.equal((await api(bridge, 'GET', '/ssf/t/streams', { token: noRole })).status, 403);
        assert.equal((await api(bridge, 'GET', '/ssf/t/streams', { token: other })).status, 403);
        assert.equal((await api(bridge, 'GET', '/ssf/nobody/streams')).status, 404);
    });

    test('create: 201 with the transmitter-supplied members; 400 for bad bodies', async () => {
        let r = await api(bridge, 'POST', '/ssf/t/streams', { body: { events_requested: [REVOKED, 'urn:x:unknown'], delivery: { method: POLL }, description: 'one' } });
        assert.equal(r.status, 201, r.body);
        const s = json(r);
        assert.match(s.stream_id, /^[A-Za-z0-9_-]{16,}$/);
        id = s.stream_id;
        assert.equal(s.iss, `${bridge.url}/ssf/t`);
        assert.equal(s.aud, 'receiver-1');
        assert.deepEqual(s.events_supported, [REVOKED, 'urn:mqpush:t:event:auth:password-changed']);
        assert.deepEqual(s.events_requested, [REVOKED, 'urn:x:unknown']);
        assert.deepEqual(s.events_delivered, [REVOKED]);
        assert.deepEqual(s.delivery, { method: POLL, endpoint_url: `${bridge.url}/ssf/t/poll/${id}` });
        assert.equal(s.description, 'one');
        r = await api(bridge, 'POST', '/ssf/t/streams', { raw: '{"events_requested": [' });
        assert.equal(r.status, 400);
        assert.equal(json(r).error, 'invalid_request');
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams', { body: { delivery: { method: 'urn:x' } } })).status, 400);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams', { body: { delivery: { method: PUSH } } })).status, 400);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams', { body: [] })).status, 400);
    });

    test('read, list, update, replace', async () => {
        let r = await api(bridge, 'GET', `/ssf/t/streams?stream_id=${id}`);
        assert.equal(r.status, 200);
        assert.equal(json(r).stream_id, id);
        const push = { method: PUSH, endpoint_url: 'https://rx.example/events', authorization_header: 'Bearer s' };
        r = await api(bridge, 'POST', '/ssf/t/streams', { body: { delivery: push } });
        assert.equal(r.status, 201);
        const second = json(r).stream_id;
        assert.deepEqual(json(r).delivery, { method: PUSH, endpoint_url: push.endpoint_url });
        r = await api(bridge, 'GET', '/ssf/t/streams');
        assert.equal(r.status, 200);
        assert.deepEqual(json(r).map((s) => s.stream_id).sort(), [id, second].sort());
        // another tenant sees none of them
        r = await api(bridge, 'GET', '/ssf/u/streams', { token: other });
        assert.deepEqual(json(r), []);
        assert.equal((await api(bridge, 'GET', `/ssf/u/streams?stream_id=${id}`, { token: other })).status, 404);
        r = await api(bridge, 'PATCH', '/ssf/t/streams', { body: { stream_id: id, description: 'two' } });
        assert.equal(r.status, 200, r.body);
        assert.equal(json(r).description, 'two');
        assert.deepEqual(json(r).events_requested, [REVOKED, 'urn:x:unknown']);
        r = await api(bridge, 'PUT', '/ssf/t/streams', { body: { stream_id: id, events_requested: ['urn:mqpush:t:event:auth:password-changed'] } });
        assert.equal(r.status, 200, r.body);
        assert.equal(json(r).description, undefined);
        assert.deepEqual(json(r).events_delivered, ['urn:mqpush:t:event:auth:password-changed']);
        assert.equal((await api(bridge, 'PATCH', '/ssf/t/streams', { body: { stream_id: 'nope', description: 'x' } })).status, 404);
        assert.equal((await api(bridge, 'PUT', '/ssf/t/streams', { body: { description: 'x' } })).status, 400);
        assert.equal((await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${second}`)).status, 204);
    });

    test('status, subjects, verification', async () => {
        let r = await api(bridge, 'GET', `/ssf/t/streams/status?stream_id=${id}`);
        assert.equal(r.status, 200);
        assert.deepEqual(json(r), { stream_id: id, status: 'enabled' });
        r = await api(bridge, 'POST', '/ssf/t/streams/status', { body: { stream_id: id, status: 'paused', reason: 'maintenance' } });
        assert.equal(r.status, 200);
        assert.deepEqual(json(r), { stream_id: id, status: 'paused', reason: 'maintenance' });
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/status', { body: { stream_id: id, status: 'sleeping' } })).status, 400);
        const subject = { format: 'email', email: 'alice@example.com' };
        r = await api(bridge, 'POST', '/ssf/t/streams/subjects:add', { body: { stream_id: id, subject, verified: true } });
        assert.equal(r.status, 200);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/subjects:add', { body: { stream_id: id, subject: { email: 'x' } } })).status, 400);
        // the same subject with its members in another order
        r = await api(bridge, 'POST', '/ssf/t/streams/subjects:remove', { body: { stream_id: id, subject: { email: 'alice@example.com', format: 'email' } } });
        assert.equal(r.status, 204);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/subjects:remove', { body: { stream_id: id, subject } })).status, 404);
        r = await api(bridge, 'POST', '/ssf/t/streams/verify', { body: { stream_id: id, state: 'abc' } });
        assert.equal(r.status, 204);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/verify', { body: { stream_id: 'nope' } })).status, 404);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/verify', { raw: 'nope' })).status, 400);
    });

    test('streams survive a restart; a deleted one is gone', async () => {
        await bridge.stop();
        await bridge.start({ samePort: true });
        let r = await api(bridge, 'GET', `/ssf/t/streams/status?stream_id=${id}`);
        assert.equal(r.status, 200);
        assert.equal(json(r).status, 'paused');
        r = await api(bridge, 'GET', '/ssf/t/streams');
        assert.deepEqual(json(r).map((s) => s.stream_id), [id]);
        assert.equal((await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${id}`)).status, 204);
        assert.equal((await api(bridge, 'GET', `/ssf/t/streams?stream_id=${id}`)).status, 404);
        assert.equal((await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${id}`)).status, 404);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/verify', { body: { stream_id: id } })).status, 404);
    });
});

describe('key rotation', () => {
    test('the old key stays in the JWKS after a rotation; the key survives a restart', async () => {
        const before = json(await request(bridge.port, '/jwks.json')).keys;
        assert.equal((await api(bridge, 'POST', '/api/ssf/keys/rotate', { token: recv, raw: '' })).status, 403);
        const r = await api(bridge, 'POST', '/api/ssf/keys/rotate', { token: admin, raw: '' });
        assert.equal(r.status, 200, r.body);
        const after = json(await request(bridge.port, '/jwks.json')).keys;
        assert.equal(after.length, before.length + 1);
        assert.notEqual(after[0].kid, before[0].kid);
        assert.deepEqual(after[1], before[0]);
        await bridge.stop();
        await bridge.start({ samePort: true });
        assert.deepEqual(json(await request(bridge.port, '/jwks.json')).keys, after);
    });

    test('RS256: an RSA key of at least 2048 bits; switching algorithms keeps the old key', async () => {
        const ecKeys = json(await request(bridge.port, '/jwks.json')).keys;
        await bridge.stop();
        bridge.options.extra.ssf.transmitter.alg = 'RS256';
        await bridge.start({ samePort: true });
        const { keys } = json(await request(bridge.port, '/jwks.json'));
        assert.equal(keys[0].kty, 'RSA');
        assert.equal(keys[0].alg, 'RS256');
        assert.ok(Buffer.from(keys[0].n, 'base64url').length * 8 >= 2048);
        assert.equal(keys[0].kid, await jose.calculateJwkThumbprint(keys[0], 'sha256'));
        await jose.importJWK(keys[0], 'RS256');
        assert.deepEqual(keys.slice(1), ecKeys.slice(0, keys.length - 1));
        assert.equal(keys[1].kid, ecKeys[0].kid);
    });

    test('key_file: the operator\'s key signs, the previous one keeps its overlap, rotation is 409', async () => {
        const before = json(await request(bridge.port, '/jwks.json')).keys;
        const op = await keygen(w.dir, 'ssf-operator', { type: 'ec' });
        await bridge.stop();
        delete bridge.options.extra.ssf.transmitter.alg;
        bridge.options.extra.ssf.transmitter.key_file = path.basename(op.key);
        await bridge.start({ samePort: true });
        const { keys } = json(await request(bridge.port, '/jwks.json'));
        const want = crypto.createPublicKey(fs.readFileSync(op.key)).export({ format: 'jwk' });
        assert.equal(keys[0].kty, 'EC');
        assert.equal(keys[0].x, want.x);
        assert.equal(keys[0].y, want.y);
        assert.equal(keys[1].kid, before[0].kid, 'the previous key stays for its overlap');
        const r = await request(bridge.port, '/api/ssf/keys/rotate', {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-length': 0 },
        });
        assert.equal(r.status, 409, r.body);
    });
});
