// Per-client rights across the broker's session life cycle, against the real broker: a bad
// token under a connected client's id takes nothing away, a takeover keeps the new connection's
// rights, persistent sessions keep their rights while offline (also across a reload), and a
// client id reused without a token falls back to public rights.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RC, clientId, connect, end, publish, subscribe, tryConnect, waitClosed } from './lib/mqtt.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let pub;
let seq = 0;

before(async () => {
    w = await createWorld({
        label: 'sessions',
        tenants: {
            t: {
                streams: [
                    stream('priv', { subscriberRoles: ['r'], events: [ev('app', 'tick')] }),
                    stream('pub', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                ],
            },
        },
    });
    pub = await connect(w.port(), { username: 'pub', password: await w.token('t', { roles: ['mqpush-publisher'] }) });
});

after(async () => {
    await end(pub).catch(() => {});
    await w?.dispose();
});

async function emit() {
    const corr = `s${++seq}`;
    assert.equal(await publish(pub, 't/events/app/tick', { correlationId: corr }), RC.SUCCESS);
    return corr;
}

function received(client, topic, corr) {
    return client.inbox.waitFor((m) => m.topic === topic && m.json?.correlationId === corr, {
        timeoutMs: 5000,
        what: `${corr} on ${topic}`,
    });
}

const PRIV = 't/priv/app:tick';
const PUB = 't/pub/app:tick';

test('a refused token under a connected client id takes nothing from that client', async () => {
    const id = clientId('victim');
    const victim = await connect(w.port(), { id, username: 'v', password: await w.token('t', { roles: ['r'] }) });
    try {
        assert.equal(await subscribe(victim, 't/priv/#'), 1);
        const forged = `${(await w.token('t', { roles: ['r'] })).slice(0, -4)}AAAA`;
        const r = await tryConnect(w.port(), { id, username: 'x', password: forged });
        assert.equal(r.ok, false, 'a tampered token was accepted');
        assert.equal(victim.closed, false, 'the refused attempt closed the connected client');
        await received(victim, PRIV, await emit());
    } finally {
        await end(victim);
    }
});

test('a takeover under the same id keeps the new connection\'s rights after the old one closes', async () => {
    const id = clientId('takeover');
    const first = await connect(w.port(), { id, username: 'a', password: await w.token('t', { roles: ['r'] }) });
    const second = await connect(w.port(), { id, username: 'a', password: await w.token('t', { roles: ['r'] }) });
    try {
        await waitClosed(first, 5000);
        assert.equal(await subscribe(second, 't/priv/#'), 1);
        await received(second, PRIV, await emit());
    } finally {
        await end(second);
    }
});

async function persistent(id, password) {
    return connect(w.port(), { id, username: 'p', password, clean: false, properties: { sessionExpiryInterval: 300 } });
}

test('a persistent session keeps its rights while offline: missed events are delivered on return', async () => {
    const id = clientId('persist');
    const token = await w.token('t', { roles: ['r'] });
    const first = await persistent(id, token);
    assert.equal(await subscribe(first, 't/priv/#'), 1);
    await end(first);

    const missed = await emit();
    const back = await persistent(id, token);
    try {
        assert.equal(back.connack.sessionPresent, true, 'the session was not kept');
        await received(back, PRIV, missed);
    } finally {
        await end(back);
    }
});

test('offline sessions keep their rights across a reload', async () => {
    const id = clientId('reload');
    const token = await w.token('t', { roles: ['r'] });
    const first = await persistent(id, token);
    assert.equal(await subscribe(first, 't/priv/#'), 1);
    await end(first);

    const r = await w.broker.reload();
    assert.equal(r.ok, true, r.log);
    const missed = await emit();
    const back = await persistent(id, token);
    try {
        await received(back, PRIV, missed);
    } finally {
        await end(back);
    }
});

test('a client id reused without a token gets public rights only', async () => {
    const id = clientId('reuse');
    const holder = await persistent(id, await w.token('t', { roles: ['r'] }));
    assert.equal(await subscribe(holder, 't/priv/#'), 1);
    assert.equal(await subscribe(holder, 't/pub/#'), 1);
    await end(holder);

    // The anonymous client takes over the session and its subscriptions.
    const anon = await connect(w.port(), { id, clean: false, properties: { sessionExpiryInterval: 300 } });
    try {
        assert.equal(anon.connack.sessionPresent, true);
        const corr = await emit();
        await received(anon, PUB, corr);
        const after = await emit();
        await received(anon, PUB, after);
        assert.equal(
            anon.inbox.matching((m) => m.topic === PRIV).length,
            0,
            'the anonymous client received a private stream event through the old session',
        );
        assert.equal(await subscribe(anon, 't/priv/#'), RC.NOT_AUTHORIZED);
    } finally {
        await end(anon);
    }
});

test('a refused token gives exactly one log line, even with line breaks inside it', async () => {
    const from = w.broker.logMark();
    // The issuer claim carries a line break and a forged log line; the refusal names the issuer.
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const evil = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({
        iss: 'https://idp.mqpush.test/realms/x\nmqpush: forged line\r\n',
        aud: 'mqpush',
        exp: Math.floor(Date.now() / 1000) + 60,
    })}.${Buffer.alloc(64).toString('base64url')}`;
    const r = await tryConnect(w.port(), { id: clientId('evil'), username: 'e', password: evil });
    assert.equal(r.ok, false);
    await w.broker.waitForLog(/mqpush: client .*token refused/, { from, timeoutMs: 5000 });
    const lines = w.broker
        .log()
        .slice(from)
        .split('\n')
        .filter((l) => l.includes('mqpush:'));
    assert.equal(lines.length, 1, lines.join('\n'));
});

test('a broker whose streams file does not load refuses to start and says why', async () => {
    const broken = await createWorld({
        label: 'sessions-broken',
        start: false,
        tenants: { t: { streams: [stream('s', { events: [ev('app', 'tick')] })] } },
    });
    try {
        await broken.writeRaw('{"tenants": {"t": {"issuer": 5}}}');
        await assert.rejects(broken.broker.start(), /mosquitto exited during start-up[\s\S]*mqpush:[\s\S]*\$\.tenants\.t/);
    } finally {
        await broken.dispose();
    }
});

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await end(pub);
    await w.close();
});
