// Volume: 10,000 QoS 1 events fanned out to three streams with different maps and criteria.
// Each subscriber must get exactly the events its stream selects, in publish order, with the
// bodies a model of the projection rules (lib/expect.mjs) computes from the published data.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, test } from 'node:test';
import { expectedCopy } from './lib/expect.mjs';
import { RC, clientId, connect, end, publish, subscribe } from './lib/mqtt.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const N = 10000;
const WINDOW = 32; // QoS 1 publishes in flight at once
const NS = 'load';
const NAME = 'tick';

const ENTRIES = {
    all: ev(NS, NAME),
    even: ev(NS, NAME, {
        criteria: { 'payload.parity': 'even' },
        map: { n: 'payload.n', square: 'payload.calc.square', first: 'payload.list[0]' },
    }),
    g1: ev(NS, NAME, {
        criteria: { context: { group: 'g1' } },
        map: { n: 'payload.n', label: 'payload.label', nested: { neg: 'payload.calc.neg', gone: 'payload.nope' } },
    }),
};

/** Event i: its parity, group and timestamp vary so that the streams select different subsets. */
function eventOf(i) {
    const e = {
        correlationId: `c-${i}`,
        context: { group: i % 3 === 0 ? 'g1' : 'g2' },
        payload: {
            n: i,
            parity: i % 2 === 0 ? 'even' : 'odd',
            label: `é-${i}-✓`,
            calc: { square: i * i, neg: -i },
            list: [i, i + 1],
        },
    };
    if (i % 5 === 0) e.timestamp = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
    return e;
}

let w;
let pub;
const subs = {};

before(async () => {
    w = await createWorld({
        label: 'volume',
        tenants: {
            v: {
                streams: Object.entries(ENTRIES).map(([id, e]) => stream(id, { subscriberRoles: ['r'], events: [e] })),
            },
        },
        // Mosquitto drops QoS 1 messages beyond 1000 queued per client by default; a burst of
        // 10,000 must not depend on how fast this process reads.
        brokerConf: ['max_queued_messages 0'],
    });
    const port = w.port();
    pub = await connect(port, { username: 'pub', password: await w.token('v', { roles: ['mqpush-publisher'] }) });
    const token = await w.token('v', { roles: ['r'] });
    for (const id of Object.keys(ENTRIES)) {
        subs[id] = await connect(port, { id: clientId(`sub-${id}`), username: id, password: token });
        assert.equal(await subscribe(subs[id], `v/${id}/#`, { qos: 1 }), 1);
    }
});

after(async () => {
    await end(pub).catch(() => {});
    for (const c of Object.values(subs)) await end(c).catch(() => {});
    await w?.dispose();
});

test(
    `${N} QoS 1 events reach three streams complete, in order, with the expected bodies`,
    { timeout: 300000 },
    async () => {
        // Expectations start from what goes over the wire (JSON), not from the JS objects.
        const events = Array.from({ length: N }, (_, i) => JSON.parse(JSON.stringify(eventOf(i))));
        const expected = {};
        for (const [id, entry] of Object.entries(ENTRIES))
            expected[id] = events.map((e) => ({ e, body: expectedCopy(entry, e) })).filter((x) => x.body !== null);
        assert.equal(expected.all.length, N);
        assert.equal(expected.even.length, N / 2);
        assert.equal(expected.g1.length, Math.ceil(N / 3));

        const started = Date.now();
        let next = 0;
        const codes = [];
        const worker = async () => {
            while (next < N) {
                const i = next++;
                codes[i] = await publish(pub, `v/events/${NS}/${NAME}`, events[i], { qos: 1 });
            }
        };
        await Promise.all(Array.from({ length: WINDOW }, worker));
        const refused = codes.map((c, i) => [i, c]).filter(([, c]) => c !== RC.SUCCESS);
        assert.deepEqual(refused.slice(0, 5), [], 'PUBACK failures');

        await Promise.all(
            Object.keys(ENTRIES).map((id) =>
                subs[id].inbox.waitFor(() => true, {
                    count: expected[id].length,
                    timeoutMs: 180000,
                    what: `copies on ${id}`,
                }),
            ),
        );
        const elapsed = (Date.now() - started) / 1000;
        console.log(
            `published ${N} events and received ${Object.values(expected).reduce((a, x) => a + x.length, 0)} copies in ${elapsed.toFixed(1)} s`,
        );

        const idOf = new Map(); // correlationId -> event id, from the "all" stream
        for (const [id, want] of Object.entries(expected)) {
            const got = subs[id].inbox.messages;
            assert.equal(got.length, want.length, `${id}: number of copies`);
            for (let k = 0; k < want.length; k++) {
                const m = got[k];
                const { e, body } = want[k];
                assert.equal(m.topic, `v/${id}/${NS}:${NAME}`);
                assert.equal(m.qos, 1);
                const { id: eid, namespace, name, timestamp, ...rest } = m.json;
                if (!isDeepStrictEqual(rest, body))
                    assert.deepEqual(rest, body, `${id}: copy #${k} (event ${e.payload.n}) differs`);
                assert.equal(namespace, NS);
                assert.equal(name, NAME);
                if (e.timestamp) assert.equal(timestamp, e.timestamp, `${id}: copy #${k} lost its timestamp`);
                if (id === 'all') {
                    if (k > 0)
                        assert.ok(
                            eid > got[k - 1].json.id,
                            `ids not increasing at #${k}: ${got[k - 1].json.id} (${got[k - 1].json.correlationId}), then ${eid} (${e.correlationId})`,
                        );
                    idOf.set(e.correlationId, eid);
                } else {
                    assert.equal(eid, idOf.get(e.correlationId), `${id}: copy #${k} has another id than in "all"`);
                }
            }
        }
    },
);

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await end(pub);
    for (const c of Object.values(subs)) await end(c);
    await w.close();
});
