// The Shared Signals transmitter's SET delivery: SETs verified with npm jose against the
// published metadata and JWKS (signature, typ, claims, one event, no sub/exp); RFC 8935 push
// with and without an Authorization header and every answer (202, 400 per err code, 401-like
// codes pausing the stream, 503 then 202 in order, once per jti); a SIGKILL mid-retry loses
// nothing; RFC 8936 poll with ack, setErrs, maxEvents 0 and long polling; verification SETs;
// subjects; paused and disabled streams; the SSRF guard refusing a loopback endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { setReceiver, setVerifier } from './lib/setreceiver.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const CHANGED = 'urn:mqpush:t:event:auth:password-changed';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';

let w;
let bridge;
let pub;
let rx;
let verifier;
let recv;

const transmitter = {
    streams: [
        {
            tenant: 't',
            stream: 'security',
            events: [{ namespace: 'auth', name: 'logout', type: REVOKED, subject_path: 'payload.user' }],
        },
    ],
    delivery: { retry_min_ms: 100, retry_max_ms: 400, retry_s: 120, auth_retries: 2, poll_wait_s: 2, accept_language: 'de' },
};

function api(b, method, path, body) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = { authorization: `Bearer ${recv}` };
    if (text !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(text);
    }
    return request(b.port, path, { method, headers, body: text });
}

async function createStream(b, delivery, events = [REVOKED, CHANGED]) {
    const r = await api(b, 'POST', '/ssf/t/streams', { events_requested: events, delivery });
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body);
}

const pushTo = (path, extra = {}) => ({ method: PUSH, endpoint_url: rx.url(path), ...extra });
const logout = (user, extra = {}) => pub.publish('auth', 'logout', { payload: { user, ...extra } });
const setsTo = (path) => rx.to(path).map((r) => r.body);
const eventOf = (claims) => Object.entries(claims.events)[0];

async function metric(b, name) {
    return (await b.metrics())[name] ?? 0;
}

before(async () => {
    w = await createWorld({
        label: 'ssfdel',
        tenants: {
            t: { streams: [stream('security', { subscriberRoles: ['reader'], events: [ev('auth', 'logout'), ev('auth', 'password-changed')] })] },
        },
    });
    recv = await w.token('t', { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 3600 });
    rx = await setReceiver();
    bridge = await new Bridge(w, {
        extra: { outbound: { allow: ['127.0.0.0/8'] }, ssf: { transmitter } },
    }).start();
    pub = await publisher(w, 't');
    verifier = await setVerifier(bridge.url, 't');
});

after(async () => {
    await rx?.close();
    await shutdown({ pub, bridge, world: w });
});

describe('push (RFC 8935)', () => {
    test('a verified SET within a second, headers without Authorization', async () => {
        const s = await createStream(bridge, pushTo('/plain'));
        const t0 = Date.now();
        await logout('alice', { reason: 'admin' });
        await rx.until(() => rx.to('/plain').length === 1, 'the SET');
        const r = rx.to('/plain')[0];
        assert.ok(r.at - t0 < 1000, `delivered after ${r.at - t0} ms`);
        assert.equal(r.method, 'POST');
        assert.equal(r.headers['content-type'], 'application/secevent+jwt');
        assert.equal(r.headers.accept, 'application/json');
        assert.equal(r.headers['accept-language'], 'de');
        assert.equal(r.headers.authorization, undefined);
        const c = await verifier.verify(r.body, s.aud);
        assert.equal(c.aud, 'receiver-1');
        assert.deepEqual(c.sub_id, { format: 'opaque', id: 'alice' });
        const [type, event] = eventOf(c);
        assert.equal(type, REVOKED);
        assert.equal(event.reason, 'admin');
        assert.equal(typeof c.txn, 'string');
        assert.ok(c.jti.endsWith(`.${s.stream_id}`));
        // an event without a mapping: the tenant's URN, the stream as the subject
        await pub.publish('auth', 'password-changed', { payload: { n: 1 } });
        await rx.until(() => rx.to('/plain').length === 2, 'the second SET');
        const c2 = await verifier.verify(rx.to('/plain')[1].body, s.aud);
        assert.equal(eventOf(c2)[0], CHANGED);
        assert.deepEqual(c2.sub_id, { format: 'opaque', id: 't/security' });
        assert.notEqual(c2.jti, c.jti);
        assert.equal((await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`)).status, 204);
    });

    test('exactly the configured Authorization header', async () => {
        const s = await createStream(bridge, pushTo('/auth', { authorization_header: 'Bearer sEcReT token' }));
        await logout('bob');
        await rx.until(() => rx.to('/auth').length === 1, 'the SET');
        assert.equal(rx.to('/auth')[0].headers.authorization, 'Bearer sEcReT token');
        await verifier.verify(rx.to('/auth')[0].body, s.aud);
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('400 invalid_request/issuer/audience/key: recorded, counted per stream, not retried', async () => {
        const s = await createStream(bridge, pushTo('/bad'), [REVOKED]);
        const codes = ['invalid_request', 'invalid_issuer', 'invalid_audience', 'invalid_key'];
        rx.answer('/bad', ...codes.map((err) => ({ status: 400, body: { err, description: `no: ${err}` } })));
        for (const [i] of codes.entries()) await logout(`bad-${i}`);
        await rx.until(() => rx.to('/bad').length === codes.length, 'each SET once');
        await logout('good');
        await rx.until(() => rx.to('/bad').length === codes.length + 1, 'the next SET');
        await sleep(600); // longer than the retry backoff: nothing comes again
        assert.equal(rx.to('/bad').length, codes.length + 1);
        const m = await bridge.metrics();
        for (const err of codes) assert.equal(m[`mqpush_bridge_ssf_set_errors_total{stream_id="${s.stream_id}",err="${err}"}`], 1, err);
        assert.ok(m['mqpush_bridge_push_total{channel="set",result="rejected"}'] >= 4);
        assert.match(bridge.output, /refused SET .* 400 invalid_key: no: invalid_key/);
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('access_denied retried, then the stream is paused; enabling it delivers what was held', async () => {
        const s = await createStream(bridge, pushTo('/denied'), [REVOKED]);
        rx.answer('/denied', { status: 400, body: { err: 'access_denied', description: 'x' } }, { status: 400, body: { err: 'authentication_failed' } });
        await logout('carol');
        await rx.until(async () => JSON.parse((await api(bridge, 'GET', `/ssf/t/streams/status?stream_id=${s.stream_id}`)).body).status === 'paused', 'paused');
        const st = JSON.parse((await api(bridge, 'GET', `/ssf/t/streams/status?stream_id=${s.stream_id}`)).body);
        assert.match(st.reason, /authentication_failed/);
        assert.equal(rx.to('/denied').length, 2);
        await logout('dave'); // held while paused
        await sleep(500);
        assert.equal(rx.to('/denied').length, 2);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/status', { stream_id: s.stream_id, status: 'enabled' })).status, 200);
        await rx.until(() => rx.to('/denied').length === 5, 'the held SETs');
        const claims = await Promise.all(rx.to('/denied').slice(2).map((r) => verifier.verify(r.body, s.aud)));
        assert.deepEqual(
            claims.map((c) => [eventOf(c)[0], c.sub_id.id]),
            [[REVOKED, 'carol'], [STREAM_UPDATED, s.stream_id], [REVOKED, 'dave']],
        );
        assert.equal(eventOf(claims[1])[1].status, 'paused');
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('503 for a while, then 202: every SET arrives, in order, once per jti', async () => {
        const s = await createStream(bridge, pushTo('/flaky'), [REVOKED]);
        rx.answer('/flaky', ...Array.from({ length: 6 }, () => ({ status: 503 })));
        const N = 5;
        for (let i = 0; i < N; i++) await logout(`u${i}`);
        await rx.until(async () => new Set(rx.to('/flaky').filter((r) => r.body).map((r) => r.body)).size >= N && rx.to('/flaky').length >= N + 6, 'all SETs', 20000);
        const first = new Map();
        for (const body of setsTo('/flaky')) {
            const c = await verifier.verify(body, s.aud);
            if (!first.has(c.jti)) first.set(c.jti, c.sub_id.id);
        }
        assert.deepEqual([...first.values()], Array.from({ length: N }, (_, i) => `u${i}`));
        assert.ok((await metric(bridge, 'mqpush_bridge_push_total{channel="set",result="retried"}')) >= 6);
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('verification SET with the state, through the stream', async () => {
        const s = await createStream(bridge, pushTo('/verify'), []);
        assert.equal((await api(bridge, 'POST', '/ssf/t/streams/verify', { stream_id: s.stream_id, state: 'st-1' })).status, 204);
        await rx.until(() => rx.to('/verify').length === 1, 'the verification SET');
        const c = await verifier.verify(rx.to('/verify')[0].body, s.aud);
        assert.deepEqual(eventOf(c), [VERIFICATION, { state: 'st-1' }]);
        assert.deepEqual(c.sub_id, { format: 'opaque', id: s.stream_id });
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('subjects: only the events of the added subjects', async () => {
        const s = await createStream(bridge, pushTo('/subj'), [REVOKED]);
        const r = await api(bridge, 'POST', '/ssf/t/streams/subjects:add', { stream_id: s.stream_id, subject: { id: 'erin', format: 'opaque' } });
        assert.equal(r.status, 200);
        await logout('frank');
        await logout('erin');
        await rx.until(() => rx.to('/subj').length >= 1, 'a SET');
        await sleep(300);
        assert.equal(rx.to('/subj').length, 1);
        assert.equal((await verifier.verify(rx.to('/subj')[0].body, s.aud)).sub_id.id, 'erin');
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('a disabled stream drops its events', async () => {
        const s = await createStream(bridge, pushTo('/off'), [REVOKED]);
        await api(bridge, 'POST', '/ssf/t/streams/status', { stream_id: s.stream_id, status: 'disabled' });
        await logout('gina');
        await sleep(300);
        await api(bridge, 'POST', '/ssf/t/streams/status', { stream_id: s.stream_id, status: 'enabled' });
        await logout('hank');
        await rx.until(() => rx.to('/off').length === 1, 'the SET after enabling');
        await sleep(300);
        assert.equal(rx.to('/off').length, 1);
        assert.equal((await verifier.verify(rx.to('/off')[0].body, s.aud)).sub_id.id, 'hank');
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });

    test('SIGKILL mid-retry and a restart: nothing lost, once per jti, in order', async () => {
        const s = await createStream(bridge, pushTo('/durable'), [REVOKED]);
        rx.answer('/durable', ...Array.from({ length: 1000 }, () => ({ status: 503 })));
        const N = 4;
        for (let i = 0; i < N; i++) await logout(`k${i}`);
        await rx.until(() => rx.to('/durable').length >= 2, 'attempts');
        bridge.kill();
        await bridge.exitPromise;
        await logout('while-away'); // kept by the broker in the bridge's session, or not: see below
        rx.clear('/durable');
        const cut = rx.to('/durable').length;
        await bridge.start({ samePort: true });
        await rx.until(async () => {
            const ids = new Set();
            for (const r of rx.to('/durable').slice(cut)) ids.add((await verifier.verify(r.body, s.aud)).sub_id.id);
            return Array.from({ length: N }, (_, i) => `k${i}`).every((k) => ids.has(k));
        }, 'every SET after the restart', 20000);
        const first = new Map();
        for (const r of rx.to('/durable')) {
            const c = await verifier.verify(r.body, s.aud);
            if (!first.has(c.jti)) first.set(c.jti, c.sub_id.id);
        }
        const order = [...first.values()].filter((v) => v !== 'while-away');
        assert.deepEqual(order, Array.from({ length: N }, (_, i) => `k${i}`));
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
    });
});

describe('poll (RFC 8936)', () => {
    const poll = (s, body) => api(bridge, 'POST', `/ssf/t/poll/${s.stream_id}`, body);

    test('sets, ack, setErrs, maxEvents 0, long poll', async () => {
        const s = await createStream(bridge, { method: POLL }, [REVOKED]);
        assert.equal(s.delivery.endpoint_url, `${bridge.url}/ssf/t/poll/${s.stream_id}`);
        let r = await poll(s, { returnImmediately: true });
        assert.equal(r.status, 200, r.body);
        assert.deepEqual(JSON.parse(r.body), { sets: {}, moreAvailable: false });
        for (const u of ['p1', 'p2', 'p3']) await logout(u);
        await sleep(300);
        r = await poll(s, { returnImmediately: true, maxEvents: 2 });
        let out = JSON.parse(r.body);
        assert.equal(Object.keys(out.sets).length, 2);
        assert.equal(out.moreAvailable, true);
        const jtis = [];
        for (const [jti, set] of Object.entries(out.sets)) {
            const c = await verifier.verify(set, s.aud);
            assert.equal(c.jti, jti);
            jtis.push(jti);
        }
        // not acknowledged: offered again; acknowledge one, report an error for the other
        r = await poll(s, { returnImmediately: true, maxEvents: 10, ack: [jtis[0]], setErrs: { [jtis[1]]: { err: 'invalid_key', description: 'x' } } });
        out = JSON.parse(r.body);
        assert.equal(Object.keys(out.sets).length, 1);
        assert.equal(out.moreAvailable, false);
        const last = Object.keys(out.sets)[0];
        assert.equal((await verifier.verify(out.sets[last], s.aud)).sub_id.id, 'p3');
        // maxEvents 0: acknowledge only
        r = await poll(s, { maxEvents: 0, ack: [last] });
        assert.deepEqual(JSON.parse(r.body), { sets: {}, moreAvailable: false });
        const m = await bridge.metrics();
        assert.equal(m[`mqpush_bridge_ssf_set_errors_total{stream_id="${s.stream_id}",err="invalid_key"}`], 1);
        // long poll: waits for the next SET
        const t0 = Date.now();
        const pending = poll(s, { returnImmediately: false });
        await sleep(300);
        await logout('p4');
        out = JSON.parse((await pending).body);
        assert.equal(Object.keys(out.sets).length, 1);
        assert.ok(Date.now() - t0 < 1900);
        // and times out empty after poll_wait_s
        const t1 = Date.now();
        r = await poll(s, { ack: Object.keys(out.sets) });
        assert.deepEqual(JSON.parse(r.body), { sets: {}, moreAvailable: false });
        assert.ok(Date.now() - t1 >= 1500, 'waited');
        // bad requests, other streams
        assert.equal((await poll(s, { maxEvents: -1 })).status, 400);
        assert.equal((await poll(s, { ack: 'x' })).status, 400);
        assert.equal((await poll({ stream_id: 'nope' }, {})).status, 404);
        const ps = await createStream(bridge, pushTo('/unused'), []);
        assert.equal((await poll(ps, {})).status, 400);
        const noAuth = await request(bridge.port, `/ssf/t/poll/${s.stream_id}`, { method: 'POST', headers: { 'content-length': 2 }, body: '{}' });
        assert.equal(noAuth.status, 401);
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${s.stream_id}`);
        await api(bridge, 'DELETE', `/ssf/t/streams?stream_id=${ps.stream_id}`);
    });
});

describe('the SSRF guard (outbound.allow empty)', () => {
    let guarded;

    before(async () => {
        guarded = await new Bridge(w, { name: 'guarded', extra: { ssf: { transmitter } } }).start();
    });

    after(async () => {
        await guarded?.stop();
    });

    test('a loopback endpoint gets nothing; the refusal is logged and counted', async () => {
        const r = await api(guarded, 'POST', '/ssf/t/streams', { events_requested: [REVOKED], delivery: pushTo('/guarded') });
        assert.equal(r.status, 201, r.body);
        await logout('ivan');
        await guarded.waitForOutput(/refused by the SSRF guard: 127\.0\.0\.1 is loopback/);
        assert.equal(await metric(guarded, 'mqpush_bridge_push_total{channel="set",result="refused"}'), 1);
        assert.equal(rx.to('/guarded').length, 0);
    });
});
