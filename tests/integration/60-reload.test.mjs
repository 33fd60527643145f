// SIGHUP reloads the streams file: a broken file (bad JSON, schema-invalid) is refused with a
// log line naming the problem and the running configuration stays; a good file applies while
// connected clients stay connected and keep receiving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RC, clientId, connect, end, publish, sleepMs, subscribe } from './lib/mqtt.mjs';
import { ev, stream, streamsById } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const GRACE_MS = 300;

let w;
let pub;
let sub; // connected before any reload, subscribed to t/#, never reconnects
let seq = 0;
const marker = () => `r${++seq}-${Date.now()}`;

const S1 = stream('s1', { subscriberRoles: ['r'], events: [ev('app', 'a')] });
const S2 = stream('s2', {
    subscriberRoles: ['r'],
    events: [ev('app', 'a', { map: { v: 'payload.v' } }), ev('app', 'b')],
});

/** Publish app:<name> and return the sorted streams whose copy reached sub. */
async function fanout(name) {
    const corr = marker();
    assert.equal(await publish(pub, `t/events/app/${name}`, { correlationId: corr, payload: { v: corr } }), RC.SUCCESS);
    // Control: an event every configuration of this file routes to s1 or s2, awaited, then a grace period.
    const ctl = marker();
    assert.equal(await publish(pub, 't/events/app/ctl', { correlationId: ctl }), RC.SUCCESS);
    await sub.inbox.waitFor((m) => m.json?.correlationId === ctl, { what: 'control copy' });
    await sleepMs(GRACE_MS);
    return sub.inbox
        .matching((m) => m.json?.correlationId === corr)
        .map((m) => m.topic)
        .sort();
}

/** The streams document of this file; ctl always lands somewhere for fanout()'s control. */
function docWith(streams) {
    const doc = structuredClone(w.doc);
    const withCtl = streams.map((s) => ({ ...s, events: [...s.events, ev('app', 'ctl')] }));
    doc.tenants.t.streams = streamsById(withCtl);
    return doc;
}

before(async () => {
    w = await createWorld({
        label: 'reload',
        tenants: { t: { streams: [{ ...S1, events: [...S1.events, ev('app', 'ctl')] }] } },
    });
    const port = w.port();
    pub = await connect(port, { username: 'pub', password: await w.token('t', { roles: ['mqpush-publisher'] }) });
    sub = await connect(port, { id: clientId('sub'), username: 'sub', password: await w.token('t', { roles: ['r'] }) });
    assert.equal(await subscribe(sub, 't/#'), 1);
});

after(async () => {
    await end(pub).catch(() => {});
    await end(sub).catch(() => {});
    await w?.dispose();
});

test('before any reload: app:a reaches s1 only; s2 does not exist', async () => {
    assert.deepEqual(await fanout('a'), ['t/s1/app:a']);
    const probe = await connect(w.port(), { username: 'p', password: await w.token('t', { roles: ['r'] }) });
    try {
        assert.equal(await subscribe(probe, 't/s2/#'), RC.NOT_AUTHORIZED);
    } finally {
        await end(probe);
    }
});

test('a file that is not JSON is refused; the log says why; the old configuration stays', async () => {
    await w.writeRaw('{"tenants": {"t": ');
    const r = await w.broker.reload();
    assert.equal(r.ok, false, r.line);
    assert.match(r.log, /\$: [^\n]*JSON/);
    assert.deepEqual(await fanout('a'), ['t/s1/app:a']);
    assert.equal(sub.closed, false);
});

test('a schema-invalid file is refused; the log names the JSON path; the old configuration stays', async () => {
    const doc = docWith([S1, S2]);
    doc.tenants.t.streams.s2.publicSubscribe = 'sometimes';
    await w.rewrite(doc);
    const r = await w.broker.reload();
    assert.equal(r.ok, false, r.line);
    assert.match(r.log, /\$\.tenants\.t\.streams\.s2\.publicSubscribe: /);
    assert.deepEqual(await fanout('a'), ['t/s1/app:a']);
    assert.deepEqual(await fanout('b'), []);
});

test('a file whose JWKS file is missing is refused; the old configuration stays', async () => {
    const doc = docWith([S1, S2]);
    doc.tenants.t.jwks_file = 'keys/gone.jwks.json';
    await w.rewrite(doc);
    const r = await w.broker.reload();
    assert.equal(r.ok, false, r.line);
    assert.match(r.log, /\$\.tenants\.t\.jwks_file: /);
    assert.deepEqual(await fanout('a'), ['t/s1/app:a']);
});

test('a good file adding stream s2 applies; the connected subscriber keeps its subscription', async () => {
    await w.rewrite(docWith([S1, S2]));
    const r = await w.broker.reload();
    assert.equal(r.ok, true, r.log);
    assert.equal(sub.closed, false, 'the subscriber was dropped by the reload');
    assert.deepEqual(await fanout('a'), ['t/s1/app:a', 't/s2/app:a']);
    assert.deepEqual(await fanout('b'), ['t/s2/app:b']);
    const copy = sub.inbox.matching((m) => m.topic === 't/s2/app:a').at(-1).json;
    assert.equal(copy.v, copy.correlationId, 'the new stream applies its map');
    const probe = await connect(w.port(), { username: 'p', password: await w.token('t', { roles: ['r'] }) });
    try {
        assert.equal(await subscribe(probe, 't/s2/#'), 1);
    } finally {
        await end(probe);
    }
});

test('a good file removing s1 and opening s2 to the public applies', async () => {
    await w.rewrite(docWith([{ ...S2, publicSubscribe: true }]));
    const r = await w.broker.reload();
    assert.equal(r.ok, true, r.log);
    assert.deepEqual(await fanout('a'), ['t/s2/app:a']);
    const anon = await connect(w.port());
    try {
        assert.equal(await subscribe(anon, 't/s2/#'), 1);
        assert.equal(await subscribe(anon, 't/s1/#'), RC.NOT_AUTHORIZED);
    } finally {
        await end(anon);
    }
    assert.equal(sub.closed, false);
    assert.equal(pub.closed, false);
});

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await end(pub);
    await end(sub);
    await w.close();
});
