// subscriberCriteria: a stream that delivers each event only to the subscribers whose token
// claims match it ("payload.userId" = the "sub" claim). The same events reach two users and
// an anonymous reader over MQTT (mqtt.js, token as password), SSE, WebSocket, polling and
// socket.io; each user gets exactly its own, the anonymous reader none, a service token all;
// streams without subscriberCriteria are unaffected; and a reload that adds subscriberCriteria
// applies to connections that were open before it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { connect, end, subscribe } from './lib/mqtt.mjs';
import { closeSocket, connected, sio, until } from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const GRACE_MS = 400;
const BY_SUB = { 'payload.userId': { claim: 'sub' } };
// Paths apply to the event as delivered, so a mapped stream names its output members; claims
// may be nested.
const BY_SUB_AND_ORG = { owner: { claim: 'sub' }, org: { claim: 'org.id' } };

/** A stream object with subscriberCriteria. */
const restricted = (id, opts, criteria) => ({ ...stream(id, opts), subscriberCriteria: criteria });

const STREAMS_T = [
    restricted('inbox', { publicSubscribe: true, events: [ev('mail', 'received')] }, BY_SUB),
    restricted(
        'team',
        {
            subscriberRoles: ['reader'],
            events: [ev('mail', 'received', { map: { owner: 'payload.userId', org: 'payload.org', text: 'payload.text' } })],
        },
        BY_SUB_AND_ORG,
    ),
    // Last: its copy of an event is published after the others, so seeing it means they came.
    stream('all', { publicSubscribe: true, events: [ev('mail', 'received')] }),
];
// Tenant u starts without subscriberCriteria; the reload test adds them.
const STREAMS_U = [stream('feed', { subscriberRoles: ['reader'], events: [ev('mail', 'received')] })];

let w;
let bridge;
let pub;
let pubU;
const tokens = {};
let run = 0;

before(async () => {
    w = await createWorld({ label: 'subscriber', tenants: { t: { streams: STREAMS_T }, u: { streams: STREAMS_U } } });
    bridge = await new Bridge(w).start();
    pub = await publisher(w, 't');
    pubU = await publisher(w, 'u');
    const user = (tenant, sub, org) => w.token(tenant, { sub, roles: ['reader'], claims: { org: { id: org } }, ttl: 3600 });
    tokens.alice = await user('t', 'alice', 'o1');
    tokens.bob = await user('t', 'bob', 'o1');
    tokens.dave = await user('u', 'dave', 'o1');
    tokens.erin = await user('u', 'erin', 'o1');
    // A tenant token without "sub": a missing claim never matches.
    tokens.nosub = await w.token('t', { roles: ['reader'], claims: { org: { id: 'o1' } }, ttl: 3600 });
    tokens.service = await w.token('service', { sub: 'relay', roles: ['mqpush-bridge'], ttl: 3600 });
});

after(async () => {
    await pubU?.end().catch(() => {});
    await shutdown({ pub, bridge, world: w });
});

/**
 * One event per recipient of a run: alice, bob, carol (nobody here), one without userId and
 * one with userId null. Returns the correlationIds by recipient.
 */
async function publishRun(p = pub) {
    const tag = `r${++run}`;
    const ids = {};
    for (const to of ['alice', 'bob', 'carol', 'missing', 'null']) {
        const payload = { org: 'o1', text: `for ${to}` };
        if (to === 'null') payload.userId = null;
        else if (to !== 'missing') payload.userId = to;
        ids[to] = `${tag}-${to}`;
        await p.publish('mail', 'received', { correlationId: ids[to], payload });
    }
    return ids;
}

const ALL = ['alice', 'bob', 'carol', 'missing', 'null'];

/** MQTT subscriber on t/<stream>/# with password (null: anonymous). */
async function mqttReader(password, filters, tenant = 't') {
    const c = await connect(w.port(), password ? { username: 'u', password } : {});
    for (const f of filters) assert.equal(await subscribe(c, `${tenant}/${f}/#`), 1, `SUBACK for ${f}`);
    return c;
}

/** correlationIds a client received on one stream, for one run. */
function mqttGot(c, s, ids, tenant = 't') {
    return c.inbox
        .matching((m) => m.topic === `${tenant}/${s}/mail:received` && Object.values(ids).includes(m.json?.correlationId))
        .map((m) => m.json.correlationId);
}

const want = (ids, ...who) => who.map((x) => ids[x]);

describe('MQTT (plugin ACL check on every delivery)', () => {
    test('each user gets only its own events, anonymous none, a service token all; other streams unaffected', async () => {
        const alice = await mqttReader(tokens.alice, ['inbox', 'team', 'all']);
        const bob = await mqttReader(tokens.bob, ['inbox', 'team', 'all']);
        const nosub = await mqttReader(tokens.nosub, ['inbox', 'all']);
        const anon = await mqttReader(null, ['inbox', 'all']);
        const service = await mqttReader(tokens.service, ['inbox', 'team', 'all']);
        const clients = [alice, bob, nosub, anon, service];
        try {
            const ids = await publishRun();
            // "all" has no subscriberCriteria: everyone gets every event there, in order.
            for (const c of clients)
                await c.inbox.waitFor((m) => m.topic === 't/all/mail:received' && m.json?.correlationId === ids.null, { what: 'last event on all' });
            await sleep(GRACE_MS);
            for (const c of clients) assert.deepEqual(mqttGot(c, 'all', ids), want(ids, ...ALL));

            assert.deepEqual(mqttGot(alice, 'inbox', ids), want(ids, 'alice'));
            assert.deepEqual(mqttGot(bob, 'inbox', ids), want(ids, 'bob'));
            assert.deepEqual(mqttGot(nosub, 'inbox', ids), [], 'no sub claim: nothing');
            assert.deepEqual(mqttGot(anon, 'inbox', ids), [], 'anonymous: nothing');
            assert.deepEqual(mqttGot(service, 'inbox', ids), want(ids, ...ALL), 'a service relays everything');

            // The mapped stream compares its output members with nested claims.
            const team = alice.inbox.matching((m) => m.topic === 't/team/mail:received' && m.json?.correlationId === ids.alice);
            assert.equal(team.length, 1);
            assert.deepEqual(
                { owner: team[0].json.owner, org: team[0].json.org, text: team[0].json.text },
                { owner: 'alice', org: 'o1', text: 'for alice' },
            );
            assert.deepEqual(mqttGot(alice, 'team', ids), want(ids, 'alice'));
            assert.deepEqual(mqttGot(bob, 'team', ids), want(ids, 'bob'));
            assert.deepEqual(mqttGot(service, 'team', ids), want(ids, ...ALL));
        } finally {
            for (const c of clients) await end(c).catch(() => {});
        }
    });

    test('the org claim must match too: the same sub in another org gets nothing on the mapped stream', async () => {
        const otherOrg = await w.token('t', { sub: 'alice', roles: ['reader'], claims: { org: { id: 'o2' } } });
        const c = await mqttReader(otherOrg, ['inbox', 'team', 'all']);
        try {
            const ids = await publishRun();
            await c.inbox.waitFor((m) => m.topic === 't/all/mail:received' && m.json?.correlationId === ids.null, { what: 'last event on all' });
            await sleep(GRACE_MS);
            assert.deepEqual(mqttGot(c, 'inbox', ids), want(ids, 'alice'), 'inbox compares sub only');
            assert.deepEqual(mqttGot(c, 'team', ids), [], 'team compares org.id too');
        } finally {
            await end(c);
        }
    });
});

/** An SSE reader of a stream (token null: anonymous on ?tenant=t), once ready. */
async function sseReader(s, token) {
    const q = token ? `token=${token}` : 'tenant=t';
    const r = await SseReader.open(`${bridge.url}/stream/v1/streams/${s}?${q}`);
    assert.equal(r.status, 200, `SSE ${s}`);
    await r.waitNamed('mqpush:ready');
    return r;
}

const sseGot = (r, ids) => r.events().map((e) => e.correlationId).filter((c) => Object.values(ids).includes(c));

describe('bridge: SSE, WebSocket, polling', () => {
    test('SSE: each user only its own events on inbox; anonymous none; "all" unaffected', async () => {
        const readers = {
            alice: await sseReader('inbox', tokens.alice),
            bob: await sseReader('inbox', tokens.bob),
            anon: await sseReader('inbox', null),
            nosub: await sseReader('inbox', tokens.nosub),
            aliceTeam: await sseReader('team', tokens.alice),
            all: await sseReader('all', null),
        };
        try {
            const ids = await publishRun();
            await readers.all.waitFor((r) => sseGot(r, ids).length === 5, { what: '5 events on all' });
            await readers.alice.waitFor((r) => sseGot(r, ids).length >= 1, { what: "alice's event" });
            await readers.bob.waitFor((r) => sseGot(r, ids).length >= 1, { what: "bob's event" });
            await readers.aliceTeam.waitFor((r) => sseGot(r, ids).length >= 1, { what: "alice's team event" });
            await sleep(GRACE_MS);
            assert.deepEqual(sseGot(readers.all, ids), want(ids, ...ALL));
            assert.deepEqual(sseGot(readers.alice, ids), want(ids, 'alice'));
            assert.deepEqual(sseGot(readers.bob, ids), want(ids, 'bob'));
            assert.deepEqual(sseGot(readers.anon, ids), []);
            assert.deepEqual(sseGot(readers.nosub, ids), []);
            assert.deepEqual(sseGot(readers.aliceTeam, ids), want(ids, 'alice'));
            const m = await bridge.metrics();
            assert.ok(m['mqpush_bridge_deliveries_total{channel="sse",result="filtered"}'] >= 4 + 4 + 5 + 5 + 4, JSON.stringify(m));
        } finally {
            Object.values(readers).forEach((r) => r.close());
        }
    });

    test('WebSocket and polling decide alike', async () => {
        const openWs = async (path) => {
            const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}${path}`);
            ws.frames = [];
            ws.on('message', (m) => ws.frames.push(JSON.parse(m.toString('utf8'))));
            ws.on('error', () => {});
            await once(ws, 'open');
            await until(() => ws.frames.some((f) => f.namespace === 'mqpush' && f.name === 'ready'), 'ready');
            return ws;
        };
        const wsGot = (ws, ids) => ws.frames.map((f) => f.correlationId).filter((c) => Object.values(ids).includes(c));
        const alice = await openWs(`/stream/v1/streams/inbox?token=${tokens.alice}`);
        const anon = await openWs('/stream/v1/streams/inbox?tenant=t');
        const all = await openWs('/stream/v1/streams/all?tenant=t');
        try {
            const ids = await publishRun();
            await until(() => wsGot(all, ids).length === 5, '5 events on all');
            await until(() => wsGot(alice, ids).length >= 1, "alice's event");
            await sleep(GRACE_MS);
            assert.deepEqual(wsGot(alice, ids), want(ids, 'alice'));
            assert.deepEqual(wsGot(anon, ids), []);

            // Polling reads the same buffer: each reader sees its own events among all buffered.
            const poll = async (q) => {
                const r = await request(bridge.port, `/stream/v1/streams/inbox/events?top=1000&${q}`);
                assert.equal(r.status, 200, r.body);
                return JSON.parse(r.body).items.map((e) => e.correlationId).filter((c) => Object.values(ids).includes(c));
            };
            assert.deepEqual(await poll(`token=${tokens.alice}`), want(ids, 'alice'));
            assert.deepEqual(await poll(`token=${tokens.bob}`), want(ids, 'bob'));
            assert.deepEqual(await poll('tenant=t'), []);
            assert.deepEqual(await poll(`token=${tokens.service}&tenant=t`), want(ids, ...ALL));
        } finally {
            [alice, anon, all].forEach((ws) => ws.close());
        }
    });
});

describe('socket.io', () => {
    test('each socket only its user\'s events; anonymous none; "all" unaffected', async () => {
        const sockets = {
            alice: sio(bridge, '/t', { auth: { stream: 'inbox', token: tokens.alice } }),
            bob: sio(bridge, '/t', { auth: { stream: 'inbox', token: tokens.bob }, transports: ['websocket'] }),
            anon: sio(bridge, '/t?stream=inbox'),
            bobPolling: sio(bridge, '/t?stream=inbox', { auth: { token: tokens.bob }, transports: ['polling'] }),
            all: sio(bridge, '/t?stream=all'),
        };
        const got = (s, ids) => s.got.map((g) => g.data?.correlationId).filter((c) => Object.values(ids).includes(c));
        try {
            await Promise.all(Object.values(sockets).map((s) => connected(s)));
            const ids = await publishRun();
            await until(() => got(sockets.all, ids).length === 5, '5 events on all');
            for (const name of ['alice', 'bob', 'bobPolling'])
                await until(() => got(sockets[name], ids).length >= 1, `an event on ${name}`);
            await sleep(GRACE_MS);
            assert.deepEqual(got(sockets.all, ids), want(ids, ...ALL));
            assert.deepEqual(got(sockets.alice, ids), want(ids, 'alice'));
            assert.deepEqual(got(sockets.bob, ids), want(ids, 'bob'));
            assert.deepEqual(got(sockets.bobPolling, ids), want(ids, 'bob'));
            assert.deepEqual(got(sockets.anon, ids), []);
        } finally {
            Object.values(sockets).forEach(closeSocket);
        }
    });
});

describe('reload', () => {
    test('subscriberCriteria added by a reload apply to connections opened before it', async () => {
        const mqttDave = await mqttReader(tokens.dave, ['feed'], 'u');
        const mqttErin = await mqttReader(tokens.erin, ['feed'], 'u');
        const sseDave = await SseReader.open(`${bridge.url}/stream/v1/streams/feed?token=${tokens.dave}`);
        const sockErin = sio(bridge, '/u', { auth: { stream: 'feed', token: tokens.erin } });
        const sockGot = (ids) => sockErin.got.map((g) => g.data?.correlationId).filter((c) => Object.values(ids).includes(c));
        try {
            await sseDave.waitNamed('mqpush:ready');
            await connected(sockErin);
            const feedRun = async (to) => {
                const tag = `f${++run}`;
                const ids = {};
                for (const x of to) {
                    ids[x] = `${tag}-${x}`;
                    await pubU.publish('mail', 'received', { correlationId: ids[x], payload: { userId: x } });
                }
                return ids;
            };
            const before = await feedRun(['dave', 'erin']);
            await mqttDave.inbox.waitFor((m) => m.json?.correlationId === before.erin, { what: 'erin on dave before' });
            await mqttErin.inbox.waitFor((m) => m.json?.correlationId === before.dave, { what: 'dave on erin before' });
            await sseDave.waitFor((r) => sseGot(r, before).length === 2, { what: 'both on SSE before' });
            await until(() => sockGot(before).length === 2, 'both on socket.io before');

            const doc = structuredClone(w.doc);
            doc.tenants.u.streams.feed.subscriberCriteria = BY_SUB;
            await w.rewrite(doc);
            assert.equal((await w.broker.reload()).ok, true);
            assert.equal((await bridge.reload()).ok, true);
            await sleep(200);

            const ids = await feedRun(['dave', 'erin', 'frank']);
            await mqttDave.inbox.waitFor((m) => m.json?.correlationId === ids.dave, { what: "dave's event" });
            await mqttErin.inbox.waitFor((m) => m.json?.correlationId === ids.erin, { what: "erin's event" });
            await sseDave.waitFor((r) => sseGot(r, ids).length >= 1, { what: "dave's SSE event" });
            await until(() => sockGot(ids).length >= 1, "erin's socket.io event");
            await sleep(GRACE_MS);
            assert.deepEqual(mqttGot(mqttDave, 'feed', ids, 'u'), want(ids, 'dave'));
            assert.deepEqual(mqttGot(mqttErin, 'feed', ids, 'u'), want(ids, 'erin'));
            assert.deepEqual(sseGot(sseDave, ids), want(ids, 'dave'));
            assert.deepEqual(sockGot(ids), want(ids, 'erin'));
        } finally {
            sseDave.close();
            closeSocket(sockErin);
            await end(mqttDave).catch(() => {});
            await end(mqttErin).catch(() => {});
        }
    });
});

test('the broker stops cleanly (no sanitizer reports)', async () => {
    await pubU.end();
    pubU = null;
    await pub.end();
    pub = null;
    await bridge.stop();
    await w.close();
});
