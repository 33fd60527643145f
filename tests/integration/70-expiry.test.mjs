// A token that expires while its holder is connected gets the client disconnected within about
// two seconds of expiry; clients with valid tokens stay, and the expired token cannot come back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RC, clientId, connect, end, publish, subscribe, tryConnect, waitClosed } from './lib/mqtt.mjs';
import { ev, stream } from './lib/streams.mjs';
import { peekClaims } from './lib/tokens.mjs';
import { createWorld } from './lib/world.mjs';

// exp has whole seconds and the broker sweeps once a second: "within about 2 s", plus scheduling.
const KICK_SLACK_MS = 3000;

let w;
let pub;
let steady;
let seq = 0;

before(async () => {
    w = await createWorld({
        label: 'expiry',
        tenants: { t: { streams: [stream('s', { subscriberRoles: ['r'], events: [ev('app', 'tick')] })] } },
        // Without leeway the disconnect follows exp itself, which keeps the test short.
        limits: { token_leeway_seconds: 0 },
    });
    pub = await connect(w.port(), { username: 'pub', password: await w.token('t', { roles: ['mqpush-publisher'] }) });
    steady = await connect(w.port(), {
        id: clientId('steady'),
        username: 'steady',
        password: await w.token('t', { roles: ['r'] }),
    });
    assert.equal(await subscribe(steady, 't/s/#'), 1);
});

after(async () => {
    await end(pub).catch(() => {});
    await end(steady).catch(() => {});
    await w?.dispose();
});

async function deliveredTo(client) {
    const corr = `e${++seq}`;
    assert.equal(await publish(pub, 't/events/app/tick', { correlationId: corr }), RC.SUCCESS);
    await client.inbox.waitFor((m) => m.json?.correlationId === corr, { timeoutMs: 5000, what: corr });
}

test('clients are disconnected once their token expires, each at its own time; others stay', async () => {
    const shortToken = await w.token('t', { roles: ['r'], ttl: 3 });
    const longerToken = await w.token('t', { roles: ['r'], ttl: 6 });
    const expShort = peekClaims(shortToken).exp * 1000;
    const expLonger = peekClaims(longerToken).exp * 1000;

    const short = await connect(w.port(), { id: clientId('short'), username: 'short', password: shortToken });
    const longer = await connect(w.port(), { id: clientId('longer'), username: 'longer', password: longerToken });
    try {
        assert.equal(await subscribe(short, 't/s/#'), 1);
        assert.equal(await subscribe(longer, 't/s/#'), 1);
        await deliveredTo(short);
        await deliveredTo(longer);

        await waitClosed(short, expShort - Date.now() + 5000);
        const closedShort = Date.now();
        assert.ok(closedShort >= expShort - 200, `disconnected ${expShort - closedShort} ms before exp`);
        assert.ok(closedShort <= expShort + KICK_SLACK_MS, `disconnected ${closedShort - expShort} ms after exp`);

        assert.equal(longer.closed, false, 'the client with a later exp was disconnected too early');
        await deliveredTo(longer);

        await waitClosed(longer, expLonger - Date.now() + 5000);
        const closedLonger = Date.now();
        assert.ok(closedLonger >= expLonger - 200, `disconnected ${expLonger - closedLonger} ms before exp`);
        assert.ok(closedLonger <= expLonger + KICK_SLACK_MS, `disconnected ${closedLonger - expLonger} ms after exp`);

        assert.equal(steady.closed, false);
        await deliveredTo(steady);
        assert.equal(pub.closed, false);
    } finally {
        await end(short);
        await end(longer);
    }
});

test('the expired token cannot connect again', async () => {
    const token = await w.token('t', { roles: ['r'], ttl: 1 });
    const exp = peekClaims(token).exp * 1000;
    const c = await connect(w.port(), { username: 'x', password: token });
    await waitClosed(c, exp - Date.now() + 5000);
    const r = await tryConnect(w.port(), { username: 'x', password: token });
    if (r.ok) await end(r.client);
    assert.equal(r.ok, false);
    assert.ok([RC.BAD_CREDENTIALS, RC.NOT_AUTHORIZED].includes(r.code), `reason ${r.code}`);
    await deliveredTo(steady);
});

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await end(pub);
    await end(steady);
    await w.close();
});
