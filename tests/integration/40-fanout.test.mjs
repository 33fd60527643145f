// Fan-out over the wire: which streams get a copy of an event (criteria), what the copy looks
// like (map projection, stamped id/namespace/name/timestamp), which bodies are refused, and that
// QoS is kept. Every stream event received here is validated against
// schemas/stream-event.schema.json at the end.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RC, clientId, connect, end, publish, sleepMs, subscribe } from './lib/mqtt.mjs';
import { describeErrors, projectAjv, validatorFor } from './lib/schemas.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const MAX_EVENT_BYTES = 4096;
const GRACE_MS = 300;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const NESTED_MAP = {
    caseId: 'payload.case.id',
    status: 'payload.case.status',
    assignee: { name: 'payload.case.assignee.name', team: { id: 'payload.case.assignee.team.id' } },
};
const ARRAY_MAP = {
    first: 'payload.items[0].sku',
    second: 'payload.items.1.sku',
    quantities: 'payload.items[1].qty',
    tags: 'payload.tags',
    lastTag: 'payload.tags[2]',
    beyond: 'payload.items[5].sku',
    nothing: 'payload.none',
};
const UNICODE_MAP = {
    größe: 'payload.maße.größe',
    '😀': 'payload.emoji',
    dotted: "payload['a.b']",
    grüß: { wörter: 'payload.wörter' },
};

const STREAMS = [
    stream('whole', { subscriberRoles: ['r'], events: [ev('shop', 'order-placed')] }),
    stream('orders-mapped', { subscriberRoles: ['r'], events: [ev('shop', 'order-placed', { map: NESTED_MAP })] }),
    stream('orders-audit', {
        subscriberRoles: ['r'],
        events: [
            ev('shop', 'order-placed', { map: { caseId: 'payload.case.id' }, criteria: { 'payload.audit': true } }),
        ],
    }),
    stream('arrays', { subscriberRoles: ['r'], events: [ev('shop', 'cart-updated', { map: ARRAY_MAP })] }),
    stream('unicode', { subscriberRoles: ['r'], events: [ev('intl', 'greeting', { map: UNICODE_MAP })] }),
    stream('by-corr', {
        subscriberRoles: ['r'],
        events: [ev('crm', 'ticket', { criteria: { correlationId: 'corr-match' } })],
    }),
    stream('by-context', {
        subscriberRoles: ['r'],
        events: [
            ev('crm', 'ticket', {
                criteria: { context: { program: 'benefits', region: { code: 1, tags: ['a', 'b'] } } },
            }),
        ],
    }),
    stream('by-payload', {
        subscriberRoles: ['r'],
        events: [
            ev('crm', 'ticket', {
                criteria: { 'payload.kind': 'urgent', 'payload.flags': [1, 2] },
                map: { kind: 'payload.kind' },
            }),
        ],
    }),
    stream('corr-any', {
        subscriberRoles: ['r'],
        events: [ev('crm', 'ticket', { criteria: { correlationId: '' }, map: { n: 'payload.n' } })],
    }),
    stream('multi', {
        subscriberRoles: ['r'],
        events: [
            ev('shop', 'cart-updated', { criteria: { 'payload.kind': 'a' }, map: { via: 'payload.a' } }),
            ev('shop', 'cart-updated', { map: { via: 'payload.b' } }),
        ],
    }),
    stream('ticks', { subscriberRoles: ['r'], events: [ev('io', 'tick')] }),
];

let w;
let pub;
let sub;
const received = []; // every stream copy, for the schema check at the end
let seq = 0;
const marker = (label) => `${label}-${++seq}-${Date.now()}`;
const copyTopic = (s, ns, name) => `t/${s}/${ns}:${name}`;

/** Wait for the copy of the event with this correlationId on stream s. */
async function copyOn(s, ns, name, corr) {
    const [m] = await sub.inbox.waitFor((x) => x.topic === copyTopic(s, ns, name) && x.json?.correlationId === corr, {
        what: `copy of ${corr} on ${s}`,
    });
    return m;
}

/** Copies received so far for the event with this correlationId, as sorted stream ids. */
function streamsWith(corr) {
    return sub.inbox
        .matching((x) => x.json?.correlationId === corr)
        .map((x) => x.topic.split('/')[1])
        .sort();
}

/**
 * Let the broker finish with everything published so far: a control event goes through the
 * same publisher and its copy is awaited, then a grace period for stragglers.
 */
async function settle() {
    const corr = marker('settle');
    assert.equal(await publish(pub, 't/events/io/tick', { correlationId: corr }), RC.SUCCESS);
    await copyOn('ticks', 'io', 'tick', corr);
    await sleepMs(GRACE_MS);
}

/** The four stamped members lead, in this order, followed by the rest as given. */
function assertStamped(json, ns, name) {
    assert.deepEqual(Object.keys(json).slice(0, 4), ['id', 'namespace', 'name', 'timestamp']);
    assert.match(json.id, UUID_V7);
    assert.equal(json.namespace, ns);
    assert.equal(json.name, name);
    assert.match(json.timestamp, /^\d{4}-\d{2}-\d{2}T/);
}

/** json without the four stamped members. */
function body(json) {
    const { id, namespace, name, timestamp, ...rest } = json;
    return rest;
}

before(async () => {
    w = await createWorld({
        label: 'fanout',
        tenants: { t: { streams: STREAMS } },
        limits: { max_event_bytes: MAX_EVENT_BYTES },
    });
    const port = w.port();
    pub = await connect(port, { username: 'pub', password: await w.token('t', { roles: ['mqpush-publisher'] }) });
    sub = await connect(port, { id: clientId('sub'), username: 'sub', password: await w.token('t', { roles: ['r'] }) });
    sub.on('message', (topic, payload) => received.push({ topic, text: payload.toString('utf8') }));
    assert.equal(await subscribe(sub, 't/#', { qos: 2 }), 2);
});

after(async () => {
    await end(pub).catch(() => {});
    await end(sub).catch(() => {});
    await w?.dispose();
});

describe('copies and their stamps', () => {
    test('a stream without map gets the whole event, stamped', async () => {
        const corr = marker('whole');
        const event = {
            correlationId: corr,
            context: { program: 'x', n: [1, { deep: true }] },
            payload: { case: { id: 'C-1' }, note: null },
            timestamp: '2024-05-06T07:08:09.123Z',
        };
        assert.equal(await publish(pub, 't/events/shop/order-placed', event), RC.SUCCESS);
        const m = await copyOn('whole', 'shop', 'order-placed', corr);
        assertStamped(m.json, 'shop', 'order-placed');
        assert.equal(m.json.timestamp, event.timestamp, "the publisher's timestamp is kept");
        const { timestamp, ...rest } = event;
        assert.deepEqual(body(m.json), rest);
    });

    test('the timestamp is added (UTC, milliseconds, now) when the event has none', async () => {
        const corr = marker('ts');
        const before_ = Date.now();
        assert.equal(await publish(pub, 't/events/shop/order-placed', { correlationId: corr }), RC.SUCCESS);
        const m = await copyOn('whole', 'shop', 'order-placed', corr);
        const after_ = Date.now();
        assert.match(m.json.timestamp, UTC_MILLIS);
        const t = Date.parse(m.json.timestamp);
        assert.ok(t >= before_ - 1000 && t <= after_ + 1000, `${m.json.timestamp} is not now`);
    });

    test('id, namespace and name of the publisher are replaced', async () => {
        const corr = marker('replace');
        const event = { id: 'forged', namespace: 'forged', name: 'forged', correlationId: corr, x: 1 };
        assert.equal(await publish(pub, 't/events/shop/order-placed', event), RC.SUCCESS);
        const m = await copyOn('whole', 'shop', 'order-placed', corr);
        assertStamped(m.json, 'shop', 'order-placed');
        assert.notEqual(m.json.id, 'forged');
        assert.deepEqual(body(m.json), { correlationId: corr, x: 1 });
    });

    test('all copies of one event carry the same id; ids of later events sort after', async () => {
        const corr1 = marker('same-id');
        const corr2 = marker('same-id');
        const event = (corr) => ({ correlationId: corr, payload: { audit: true, case: { id: 'C-9' } } });
        assert.equal(await publish(pub, 't/events/shop/order-placed', event(corr1)), RC.SUCCESS);
        assert.equal(await publish(pub, 't/events/shop/order-placed', event(corr2)), RC.SUCCESS);
        const ids = async (corr) =>
            Promise.all(
                ['whole', 'orders-mapped', 'orders-audit'].map(
                    async (s) => (await copyOn(s, 'shop', 'order-placed', corr)).json.id,
                ),
            );
        const first = await ids(corr1);
        const second = await ids(corr2);
        assert.equal(new Set(first).size, 1, `ids differ across streams: ${first}`);
        assert.equal(new Set(second).size, 1, `ids differ across streams: ${second}`);
        assert.ok(first[0] < second[0], `${first[0]} should sort before ${second[0]}`);
    });

    test('an event no stream carries is accepted and goes nowhere', async () => {
        const corr = marker('unrouted');
        assert.equal(await publish(pub, 't/events/shop/nobody-listens', { correlationId: corr }), RC.SUCCESS);
        await settle();
        assert.deepEqual(streamsWith(corr), []);
    });
});

describe('map projections', () => {
    test('nested map', async () => {
        const corr = marker('nested');
        const event = {
            correlationId: corr,
            context: { program: 'benefits' },
            payload: {
                case: { id: 'C-7', status: 'open', assignee: { name: 'Ada', team: { id: 4, size: 9 } }, secret: 's' },
            },
        };
        assert.equal(await publish(pub, 't/events/shop/order-placed', event), RC.SUCCESS);
        const m = await copyOn('orders-mapped', 'shop', 'order-placed', corr);
        assertStamped(m.json, 'shop', 'order-placed');
        assert.deepEqual(body(m.json), {
            correlationId: corr,
            context: { program: 'benefits' },
            caseId: 'C-7',
            status: 'open',
            assignee: { name: 'Ada', team: { id: 4 } },
        });
    });

    test('missing paths are left out; a nested map whose paths all miss gives {}', async () => {
        const corr = marker('missing');
        const event = { correlationId: corr, payload: { case: { id: 'C-8' } } };
        assert.equal(await publish(pub, 't/events/shop/order-placed', event), RC.SUCCESS);
        const m = await copyOn('orders-mapped', 'shop', 'order-placed', corr);
        // No context in the event: no context in the copy.
        assert.deepEqual(body(m.json), { correlationId: corr, caseId: 'C-8', assignee: { team: {} } });
    });

    test('a path that resolves to null gives null', async () => {
        const corr = marker('null');
        const event = { correlationId: corr, payload: { case: { id: null, status: 'closed' } } };
        assert.equal(await publish(pub, 't/events/shop/order-placed', event), RC.SUCCESS);
        const m = await copyOn('orders-mapped', 'shop', 'order-placed', corr);
        assert.deepEqual(body(m.json), { correlationId: corr, caseId: null, status: 'closed', assignee: { team: {} } });
    });

    test('arrays: [n] and .n indexes, whole arrays, out of range', async () => {
        const corr = marker('arrays');
        const event = {
            correlationId: corr,
            payload: {
                items: [
                    { sku: 'A-1', qty: 1 },
                    { sku: 'B-2', qty: [3, 4] },
                ],
                tags: ['x', { y: 1 }, [true, null]],
            },
        };
        assert.equal(await publish(pub, 't/events/shop/cart-updated', event), RC.SUCCESS);
        const m = await copyOn('arrays', 'shop', 'cart-updated', corr);
        assert.deepEqual(body(m.json), {
            correlationId: corr,
            first: 'A-1',
            second: 'B-2',
            quantities: [3, 4],
            tags: ['x', { y: 1 }, [true, null]],
            lastTag: [true, null],
        });
    });

    test('unicode keys and values, emoji, quoted path segments', async () => {
        const corr = marker('unicode');
        const event = {
            correlationId: corr,
            context: { språk: 'svenska', 名前: '東京' },
            payload: {
                maße: { größe: 'XL – ümlaut' },
                emoji: '🚀✨ 👩‍💻',
                'a.b': 'one key with a dot',
                a: { b: 'nested, must not win' },
                wörter: ['ä', 'ö', '\u0000', '\u2028'],
            },
        };
        assert.equal(await publish(pub, 't/events/intl/greeting', event), RC.SUCCESS);
        const m = await copyOn('unicode', 'intl', 'greeting', corr);
        assert.deepEqual(body(m.json), {
            correlationId: corr,
            context: { språk: 'svenska', 名前: '東京' },
            größe: 'XL – ümlaut',
            '😀': '🚀✨ 👩‍💻',
            dotted: 'one key with a dot',
            grüß: { wörter: ['ä', 'ö', '\u0000', '\u2028'] },
        });
    });

    test('one copy per stream, from the first events[] entry whose criteria match', async () => {
        const a = marker('multi-a');
        const b = marker('multi-b');
        assert.equal(
            await publish(pub, 't/events/shop/cart-updated', {
                correlationId: a,
                payload: { kind: 'a', a: 'A', b: 'B' },
            }),
            RC.SUCCESS,
        );
        assert.equal(
            await publish(pub, 't/events/shop/cart-updated', {
                correlationId: b,
                payload: { kind: 'b', a: 'A', b: 'B' },
            }),
            RC.SUCCESS,
        );
        assert.deepEqual(body((await copyOn('multi', 'shop', 'cart-updated', a)).json), { correlationId: a, via: 'A' });
        assert.deepEqual(body((await copyOn('multi', 'shop', 'cart-updated', b)).json), { correlationId: b, via: 'B' });
        await settle();
        assert.equal(
            sub.inbox.matching((x) => x.topic.startsWith('t/multi/') && [a, b].includes(x.json?.correlationId)).length,
            2,
        );
    });
});

describe('criteria', () => {
    const ticket = (e) => publish(pub, 't/events/crm/ticket', e);

    test('on correlationId: only the matching event is delivered', async () => {
        const other = marker('corr-other');
        assert.equal(await ticket({ correlationId: 'corr-match', payload: { n: 1 } }), RC.SUCCESS);
        assert.equal(await ticket({ correlationId: other, payload: { n: 2 } }), RC.SUCCESS);
        const m = await copyOn('by-corr', 'crm', 'ticket', 'corr-match');
        assert.deepEqual(m.json.payload, { n: 1 });
        await settle();
        assert.ok(!streamsWith(other).includes('by-corr'));
        assert.deepEqual(streamsWith(other), ['corr-any'], 'an empty correlationId criterion means no constraint');
    });

    test('on context: deep equality, key order and 1 vs 1.0 irrelevant', async () => {
        const match = marker('ctx-match');
        // Raw text: key order differs from the criteria and 1.0 is written as a double.
        const raw = `{"correlationId":"${match}","context":{"region":{"tags":["a","b"],"code":1.0},"program":"benefits"}}`;
        assert.equal(await ticket(raw), RC.SUCCESS);
        await copyOn('by-context', 'crm', 'ticket', match);
    });

    for (const [label, context] of [
        ['an extra member', { program: 'benefits', region: { code: 1, tags: ['a', 'b'] }, extra: 1 }],
        ['a missing member', { program: 'benefits' }],
        ['array order changed', { program: 'benefits', region: { code: 1, tags: ['b', 'a'] } }],
        ['a string "1" for the number 1', { program: 'benefits', region: { code: '1', tags: ['a', 'b'] } }],
        ['no context at all', undefined],
    ]) {
        test(`on context: ${label} does not match`, async () => {
            const corr = marker('ctx-miss');
            assert.equal(await ticket({ correlationId: corr, context }), RC.SUCCESS);
            await settle();
            assert.deepEqual(streamsWith(corr), ['corr-any']);
        });
    }

    test('on payload paths: all must match (scalar and array values)', async () => {
        const yes = marker('payload-yes');
        const partial = marker('payload-partial');
        assert.equal(
            await ticket({ correlationId: yes, payload: { kind: 'urgent', flags: [1, 2], n: 5 } }),
            RC.SUCCESS,
        );
        assert.equal(await ticket({ correlationId: partial, payload: { kind: 'urgent', flags: [1] } }), RC.SUCCESS);
        const m = await copyOn('by-payload', 'crm', 'ticket', yes);
        assert.deepEqual(body(m.json), { correlationId: yes, kind: 'urgent' });
        await settle();
        assert.deepEqual(streamsWith(yes), ['by-payload', 'corr-any']);
        assert.deepEqual(streamsWith(partial), ['corr-any']);
    });
});

describe('refused bodies', () => {
    const cases = [
        ['not JSON', 'this is not json'],
        ['a JSON array', '[{"correlationId":"x"}]'],
        ['a JSON string', '"just a string"'],
        ['JSON with trailing garbage', '{"correlationId":"x"} trailing'],
        ['NaN (not RFC 8259 JSON)', '{"correlationId":"x","n":NaN}'],
        ['nested deeper than 64 levels', `{"correlationId":"x","p":${'['.repeat(80)}${']'.repeat(80)}}`],
        [
            'invalid UTF-8',
            Buffer.concat([Buffer.from('{"correlationId":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
        ],
        ['timestamp is not a string', '{"correlationId":"x","timestamp":12345}'],
        ['context is not an object', '{"correlationId":"x","context":"oops"}'],
        ['over limits.max_event_bytes', JSON.stringify({ correlationId: 'x', pad: 'p'.repeat(MAX_EVENT_BYTES) })],
        ['empty', ''],
    ];
    for (const [label, payload] of cases) {
        test(`${label}: PUBACK 0x87, no stream gets it, the publisher stays connected`, async () => {
            const before_ = sub.inbox.messages.length;
            assert.equal(await publish(pub, 't/events/io/tick', payload), RC.NOT_AUTHORIZED);
            await settle();
            const since = sub.inbox.messages
                .slice(before_)
                .filter((x) => !x.json?.correlationId?.startsWith('settle-'));
            assert.deepEqual(
                since.map((x) => x.topic),
                [],
                'a refused event reached a stream',
            );
            assert.equal(pub.closed, false);
        });
    }

    test('not JSON at QoS 2: PUBREC 0x87, no stream gets it', async () => {
        const before_ = sub.inbox.messages.length;
        assert.equal(await publish(pub, 't/events/io/tick', 'still not json', { qos: 2 }), RC.NOT_AUTHORIZED);
        await settle();
        const since = sub.inbox.messages.slice(before_).filter((x) => !x.json?.correlationId?.startsWith('settle-'));
        assert.deepEqual(
            since.map((x) => x.topic),
            [],
        );
        assert.equal(pub.closed, false);
    });

    test('a body of exactly limits.max_event_bytes is accepted', async () => {
        const corr = marker('limit');
        const base = JSON.stringify({ correlationId: corr, pad: '' });
        const payload = JSON.stringify({ correlationId: corr, pad: 'p'.repeat(MAX_EVENT_BYTES - base.length) });
        assert.equal(Buffer.byteLength(payload), MAX_EVENT_BYTES);
        assert.equal(await publish(pub, 't/events/io/tick', payload), RC.SUCCESS);
        await copyOn('ticks', 'io', 'tick', corr);
    });
});

describe('QoS', () => {
    for (const qos of [0, 1, 2]) {
        test(`an event published with QoS ${qos} reaches the stream with QoS ${qos}`, async () => {
            const corr = marker(`qos${qos}`);
            const code = await publish(pub, 't/events/io/tick', { correlationId: corr }, { qos });
            assert.equal(code, RC.SUCCESS);
            const m = await copyOn('ticks', 'io', 'tick', corr);
            assert.equal(m.qos, qos);
        });
    }
});

test('every stream copy received validates against stream-event.schema.json', () => {
    assert.ok(received.length > 30, `only ${received.length} copies received`);
    const validate = validatorFor(projectAjv(), 'stream-event.schema.json');
    for (const { topic, text } of received) {
        const json = JSON.parse(text);
        assert.ok(validate(json), `${topic}: ${text}\n${describeErrors(validate)}`);
    }
});

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await end(pub);
    await end(sub);
    await w.close();
});
