// SSF SET receivers that misbehave (lib/badserver.mjs), one push stream each: one never
// answers, one resets every connection, one answers a byte a second, one answers with bytes that
// are not HTTP, one with a status no RFC defines, one with a 202 and a body that never ends.
// SET delivery is one request at a time per stream, in order (ssf/push.c): a healthy stream of
// the same transmitter gets every SET, in order, within a second; no bad receiver ever has more
// than one connection; once they behave again each gets every SET once, in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from '../integration/lib/bridge.mjs';
import { setReceiver, setVerifier } from '../integration/lib/setreceiver.mjs';
import { ev, stream } from '../integration/lib/streams.mjs';
import { createWorld } from '../integration/lib/world.mjs';
import { BadServer } from './lib/badserver.mjs';
import { quantile, summary, until } from './lib/measure.mjs';

const REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const PUSH = 'urn:ietf:rfc:8935';
const BAD_MODES = ['blackhole', 'reset', 'slow', 'garbage', 'junk', 'flood'];
const N = 40;
const RATE = 20;

let w;
let bridge;
let pub;
let rx;
let verifier;
const bad = {};
const streams = {};

before(async () => {
    w = await createWorld({
        label: 'f-setrx',
        tenants: { t: { streams: [stream('security', { subscriberRoles: ['reader'], events: [ev('auth', 'logout')] })] } },
    });
    const transmitter = {
        streams: [
            {
                tenant: 't',
                stream: 'security',
                events: [{ namespace: 'auth', name: 'logout', type: REVOKED, subject_path: 'payload.user' }],
            },
        ],
        delivery: { retry_min_ms: 200, retry_max_ms: 1000, retry_s: 600 },
    };
    bridge = await new Bridge(w, { extra: { outbound: { allow: ['127.0.0.0/8'] }, ssf: { transmitter } } }).start();
    pub = await publisher(w, 't');
    rx = await setReceiver();
    verifier = await setVerifier(bridge.url, 't');
    const token = await w.token('t', { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 3600 });
    const create = async (url) => {
        const body = JSON.stringify({ events_requested: [REVOKED], delivery: { method: PUSH, endpoint_url: url } });
        const r = await request(bridge.port, '/ssf/t/streams', {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            body,
        });
        assert.equal(r.status, 201, r.body);
        return JSON.parse(r.body);
    };
    streams.healthy = await create(rx.url('/healthy'));
    for (const mode of BAD_MODES) {
        bad[mode] = await new BadServer(mode, { status: 202 }).start();
        streams[mode] = await create(bad[mode].url(`/${mode}`));
    }
});

after(async () => {
    await rx?.close();
    for (const s of Object.values(bad)) await s.close().catch(() => {});
    await shutdown({ pub, bridge, world: w, timeoutMs: 60000 });
});

const claimsOf = (set) => JSON.parse(Buffer.from(set.split('.')[1], 'base64url'));

test(`${N} SETs at ${RATE}/s: the healthy receiver keeps its pace and order, one request at a time per bad stream; after recovery every SET, in order`, async () => {
    const users = [];
    const sentAt = new Map();
    for (let i = 0; i < N; i++) {
        const user = `u${i}`;
        users.push(user);
        sentAt.set(user, Date.now());
        await pub.publish('auth', 'logout', { payload: { user } });
        await sleep(1000 / RATE);
    }
    await rx.until(() => rx.to('/healthy').length >= N, 'every SET at the healthy receiver', 15000);
    await sleep(1000);
    const got = rx.to('/healthy');
    assert.deepEqual(got.map((r) => claimsOf(r.body).sub_id.id), users, 'the healthy receiver: every SET once, in order');
    for (const r of got) await verifier.verify(r.body, streams.healthy.aud);
    const lat = got.map((r) => r.at - sentAt.get(claimsOf(r.body).sub_id.id));
    const conns = BAD_MODES.map((m) => `${m} ${bad[m].maxOpen}/${bad[m].accepted}`);
    console.log(`# healthy latency ${summary(lat)}; bad (most open at once/accepted): ${conns.join(', ')}`);
    assert.ok(quantile(lat, 0.99) < 1000, summary(lat));
    for (const mode of BAD_MODES) assert.ok(bad[mode].maxOpen <= 1, `${mode}: ${bad[mode].maxOpen} connections at once`);
    // the stream whose receiver answers at once but badly tries again and again; the silent
    // and the slow ones are still on their first request (curl's timeout is 30 s)
    for (const mode of ['reset', 'garbage', 'junk']) assert.ok(bad[mode].accepted > 1, `${mode}: retried`);
    for (const mode of ['blackhole', 'slow']) assert.equal(bad[mode].accepted, 1, `${mode}: one request`);
    // a 202 with an endless body is an answer: each SET went there once
    assert.equal(bad.flood.accepted, N, 'one request per SET to the flooding receiver');

    for (const mode of BAD_MODES) if (mode !== 'flood') bad[mode].recover();
    for (const mode of BAD_MODES) {
        if (mode === 'flood') continue;
        await until(() => bad[mode].posts().length >= N, `every SET at the ${mode} receiver once it behaves`, 30000);
        const sets = bad[mode].posts().map((r) => r.body.toString('utf8'));
        assert.deepEqual(sets.map((s) => claimsOf(s).sub_id.id), users, `${mode}: every SET once, in order`);
        assert.equal(new Set(sets.map((s) => claimsOf(s).jti)).size, N);
        await verifier.verify(sets[0], streams[mode].aud);
    }
    await until(async () => (await bridge.metrics())['mqpush_bridge_push_pending{channel="set"}'] === 0, 'nothing pending');
});
