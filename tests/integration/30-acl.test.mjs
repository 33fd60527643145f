// Access control over the wire, as one table: who does what, and what the broker answers
// (SUBACK / PUBACK reason codes) and delivers. Reads are checked with real events: every
// subscriber of the table is connected at once, one probe event per tenant is published, and
// once a witness has all four stream copies (plus a grace period) each subscriber's inbox is
// compared with the table.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RC, clientId, connect, end, publish, sleepMs, subscribe } from './lib/mqtt.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const NS = 'orders';
const NAME = 'created';
const DENIED = RC.NOT_AUTHORIZED;
const GRACE_MS = 300;

const SUBJECTS = {
    anonymous: null,
    'ta-listener': { issuer: 'ta', roles: ['stream-listener'] },
    'ta-auditor': { issuer: 'ta', roles: ['auditor'] },
    'ta-noroles': { issuer: 'ta', roles: [] },
    'ta-publisher': { issuer: 'ta', roles: ['mqpush-publisher'] },
    'tb-listener': { issuer: 'tb', roles: ['stream-listener'] },
    bridge: { issuer: 'service', roles: ['mqpush-bridge'] },
    'svc-noroles': { issuer: 'service', roles: [] },
};

// Stream copies are named <tenant>/<stream>; raw event topics <tenant>/events. Nobody may read
// raw events through any filter, so "events" never appears in an expected set.
const ALL4 = 'ta/public ta/private tb/public tb/private';
// prettier-ignore
const SUBSCRIBE_TABLE = [
    // who             filter                        SUBACK  stream copies received
    ['anonymous',     '#',                           DENIED, ''],
    ['anonymous',     '+/public/#',                  DENIED, ''],
    ['anonymous',     'ta/#',                        1,      'ta/public'],
    ['anonymous',     'ta/private/#',                DENIED, ''],
    ['anonymous',     'tb/public/#',                 1,      'tb/public'],
    ['anonymous',     '$share/g/ta/#',               1,      'ta/public'],
    ['anonymous',     '$share/g/#',                  DENIED, ''],
    ['anonymous',     '$SYS/#',                      DENIED, ''],
    ['anonymous',     'ta/events/#',                 DENIED, ''],
    ['anonymous',     'ta/public/orders:created',    1,      'ta/public'],

    ['ta-listener',   '#',                           DENIED, ''],
    ['ta-listener',   '+/public/#',                  DENIED, ''],
    ['ta-listener',   'ta/#',                        1,      'ta/public ta/private'],
    ['ta-listener',   'ta/private/#',                1,      'ta/private'],
    ['ta-listener',   'tb/public/#',                 DENIED, ''],
    ['ta-listener',   '$share/g/ta/#',               1,      'ta/public ta/private'],
    ['ta-listener',   '$share/g/#',                  DENIED, ''],
    ['ta-listener',   '$SYS/#',                      DENIED, ''],
    ['ta-listener',   'ta/events/#',                 DENIED, ''],
    ['ta-listener',   'ta/public/orders:created',    1,      'ta/public'],

    ['ta-auditor',    '#',                           DENIED, ''],
    ['ta-auditor',    '+/public/#',                  DENIED, ''],
    ['ta-auditor',    'ta/#',                        1,      'ta/public ta/private'],
    ['ta-auditor',    'ta/private/#',                1,      'ta/private'],
    ['ta-auditor',    'tb/public/#',                 DENIED, ''],
    ['ta-auditor',    '$share/g/ta/#',               1,      'ta/public ta/private'],
    ['ta-auditor',    '$share/g/#',                  DENIED, ''],
    ['ta-auditor',    '$SYS/#',                      DENIED, ''],
    ['ta-auditor',    'ta/events/#',                 DENIED, ''],
    ['ta-auditor',    'ta/public/orders:created',    1,      'ta/public'],

    ['ta-noroles',    '#',                           DENIED, ''],
    ['ta-noroles',    '+/public/#',                  DENIED, ''],
    ['ta-noroles',    'ta/#',                        1,      'ta/public'],
    ['ta-noroles',    'ta/private/#',                DENIED, ''],
    ['ta-noroles',    'tb/public/#',                 DENIED, ''],
    ['ta-noroles',    '$share/g/ta/#',               1,      'ta/public'],
    ['ta-noroles',    '$share/g/#',                  DENIED, ''],
    ['ta-noroles',    '$SYS/#',                      DENIED, ''],
    ['ta-noroles',    'ta/events/#',                 DENIED, ''],
    ['ta-noroles',    'ta/public/orders:created',    1,      'ta/public'],

    ['ta-publisher',  '#',                           DENIED, ''],
    ['ta-publisher',  '+/public/#',                  DENIED, ''],
    ['ta-publisher',  'ta/#',                        1,      'ta/public'],
    ['ta-publisher',  'ta/private/#',                DENIED, ''],
    ['ta-publisher',  'tb/public/#',                 DENIED, ''],
    ['ta-publisher',  '$share/g/ta/#',               1,      'ta/public'],
    ['ta-publisher',  '$share/g/#',                  DENIED, ''],
    ['ta-publisher',  '$SYS/#',                      DENIED, ''],
    ['ta-publisher',  'ta/events/#',                 DENIED, ''],
    ['ta-publisher',  'ta/public/orders:created',    1,      'ta/public'],

    ['tb-listener',   '#',                           DENIED, ''],
    ['tb-listener',   '+/public/#',                  DENIED, ''],
    ['tb-listener',   'ta/#',                        DENIED, ''],
    ['tb-listener',   'ta/private/#',                DENIED, ''],
    ['tb-listener',   'tb/public/#',                 1,      'tb/public'],
    ['tb-listener',   '$share/g/ta/#',               DENIED, ''],
    ['tb-listener',   '$share/g/#',                  DENIED, ''],
    ['tb-listener',   '$SYS/#',                      DENIED, ''],
    ['tb-listener',   'ta/events/#',                 DENIED, ''],
    ['tb-listener',   'ta/public/orders:created',    DENIED, ''],

    ['bridge',        '#',                           1,      ALL4],
    ['bridge',        '+/public/#',                  1,      'ta/public tb/public'],
    ['bridge',        'ta/#',                        1,      'ta/public ta/private'],
    ['bridge',        'ta/private/#',                1,      'ta/private'],
    ['bridge',        'tb/public/#',                 1,      'tb/public'],
    ['bridge',        '$share/g/ta/#',               1,      'ta/public ta/private'],
    ['bridge',        '$share/g/#',                  1,      ALL4],
    ['bridge',        '$SYS/#',                      DENIED, ''],
    ['bridge',        'ta/events/#',                 DENIED, ''],
    ['bridge',        'ta/public/orders:created',    1,      'ta/public'],

    ['svc-noroles',   '#',                           DENIED, ''],
    ['svc-noroles',   '+/public/#',                  DENIED, ''],
    ['svc-noroles',   'ta/#',                        DENIED, ''],
    ['svc-noroles',   'ta/private/#',                DENIED, ''],
    ['svc-noroles',   'tb/public/#',                 DENIED, ''],
    ['svc-noroles',   '$share/g/ta/#',               DENIED, ''],
    ['svc-noroles',   '$share/g/#',                  DENIED, ''],
    ['svc-noroles',   '$SYS/#',                      DENIED, ''],
    ['svc-noroles',   'ta/events/#',                 DENIED, ''],
    ['svc-noroles',   'ta/public/orders:created',    DENIED, ''],
];

// Writes: nobody writes stream topics; events are written by their tenant's publishers and by
// the bridge (service identity with mqpush-bridge).
const TA_EVENT = `ta/events/${NS}/${NAME}`;
const TB_EVENT = `tb/events/${NS}/${NAME}`;
const TA_STREAM = `ta/public/${NS}:${NAME}`;
// prettier-ignore
const PUBLISH_TABLE = [
    // who             topic        PUBACK  stream copies fanned out
    ['anonymous',     TA_STREAM,   DENIED, ''],
    ['anonymous',     TA_EVENT,    DENIED, ''],
    ['anonymous',     TB_EVENT,    DENIED, ''],
    ['ta-listener',   TA_STREAM,   DENIED, ''],
    ['ta-listener',   TA_EVENT,    DENIED, ''],
    ['ta-listener',   TB_EVENT,    DENIED, ''],
    ['ta-auditor',    TA_STREAM,   DENIED, ''],
    ['ta-auditor',    TA_EVENT,    DENIED, ''],
    ['ta-auditor',    TB_EVENT,    DENIED, ''],
    ['ta-noroles',    TA_STREAM,   DENIED, ''],
    ['ta-noroles',    TA_EVENT,    DENIED, ''],
    ['ta-noroles',    TB_EVENT,    DENIED, ''],
    ['ta-publisher',  TA_STREAM,   DENIED, ''],
    ['ta-publisher',  TA_EVENT,    0,      'ta/public ta/private'],
    ['ta-publisher',  TB_EVENT,    DENIED, ''],
    ['tb-listener',   TA_STREAM,   DENIED, ''],
    ['tb-listener',   TA_EVENT,    DENIED, ''],
    ['tb-listener',   TB_EVENT,    DENIED, ''],
    ['bridge',        TA_STREAM,   DENIED, ''],
    ['bridge',        TA_EVENT,    0,      'ta/public ta/private'],
    ['bridge',        TB_EVENT,    0,      'tb/public tb/private'],
    ['svc-noroles',   TA_STREAM,   DENIED, ''],
    ['svc-noroles',   TA_EVENT,    DENIED, ''],
    ['svc-noroles',   TB_EVENT,    DENIED, ''],
];

/** "ta/public/orders:created" -> "ta/public"; "ta/events/orders/created" -> "ta/events". */
function label(topic) {
    return topic.split('/').slice(0, 2).join('/');
}

const setOf = (s) => s.split(' ').filter(Boolean).sort().join(' ');
const fmtCode = (c) => (typeof c === 'number' ? `0x${c.toString(16).padStart(2, '0')}` : String(c));

function printTable(title, header, rows) {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
    console.log(`\n${title}\n${line(header)}\n${widths.map((n) => '-'.repeat(n)).join('-|-')}`);
    for (const r of rows) console.log(line(r));
}

let w;
let port;
const tokens = {};
const clients = [];

async function connectAs(who, tag) {
    const subject = SUBJECTS[who];
    const c = await connect(port, {
        id: clientId(`${who}-${tag}`),
        ...(subject ? { username: who, password: tokens[who] } : {}),
    });
    clients.push(c);
    return c;
}

/** In batches, so the broker (under ASan) is not flooded with connects at once. */
async function inBatches(items, size, fn) {
    const out = [];
    for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
    return out;
}

before(async () => {
    const tenantStreams = () => [
        stream('public', { publicSubscribe: true, events: [ev(NS, NAME)] }),
        stream('private', { subscriberRoles: ['auditor'], events: [ev(NS, NAME)] }),
    ];
    w = await createWorld({
        label: 'acl',
        tenants: { ta: { streams: tenantStreams() }, tb: { streams: tenantStreams() } },
    });
    port = w.port();
    for (const [who, s] of Object.entries(SUBJECTS)) {
        if (s) tokens[who] = await w.token(s.issuer, { roles: s.roles, sub: who });
    }
    tokens.taPublisher = await w.token('ta', { roles: ['mqpush-publisher'] });
    tokens.tbPublisher = await w.token('tb', { roles: ['mqpush-publisher'] });
});

after(async () => {
    await Promise.all(clients.map((c) => end(c).catch(() => {})));
    await w?.dispose();
});

/** A bridge on "#" sees every stream copy: the witness that a round of deliveries is over. */
async function witness() {
    const c = await connectAs('bridge', 'witness');
    assert.equal(await subscribe(c, '#'), 1, 'the witness (bridge on #) was refused');
    return c;
}

async function tenantPublishers() {
    const ta = await connect(port, { username: 'pub-ta', password: tokens.taPublisher });
    const tb = await connect(port, { username: 'pub-tb', password: tokens.tbPublisher });
    clients.push(ta, tb);
    return { ta, tb };
}

describe('subscribe: SUBACK and what each filter delivers', () => {
    const results = [];

    before(async () => {
        const wit = await witness();
        const pubs = await tenantPublishers();
        // One shared-subscription group per row: members of a group would share the messages.
        const rows = SUBSCRIBE_TABLE.map(([who, filter], i) => ({
            who,
            filter,
            wire: filter.replace('$share/g/', `$share/g${i}/`),
        }));
        await inBatches(rows, 8, async (row, i) => {
            row.client = await connectAs(row.who, `sub${i}`);
            row.suback = await subscribe(row.client, row.wire);
        });

        const probe = `probe-${Date.now()}`;
        assert.equal(await publish(pubs.ta, TA_EVENT, { probe }), 0);
        assert.equal(await publish(pubs.tb, TB_EVENT, { probe }), 0);
        await wit.inbox.waitFor((m) => m.json?.probe === probe, { count: 4, what: 'the four probe copies' });
        await sleepMs(GRACE_MS);

        for (const row of rows) {
            const got = row.client.inbox.matching((m) => m.json?.probe === probe).map((m) => label(m.topic));
            results.push({ suback: row.suback, received: got.sort().join(' ') });
        }
        printTable(
            'subscribe table (expected -> actual)',
            ['who', 'filter', 'SUBACK', 'received'],
            SUBSCRIBE_TABLE.map(([who, filter, suback, recv], i) => {
                const r = results[i];
                const ok = r.suback === suback && r.received === setOf(recv);
                return [
                    who,
                    filter,
                    `${fmtCode(suback)} -> ${fmtCode(r.suback)}`,
                    `${setOf(recv) || '-'} -> ${r.received || '-'}${ok ? '' : '   <-- MISMATCH'}`,
                ];
            }),
        );
    });

    SUBSCRIBE_TABLE.forEach(([who, filter, suback, recv], i) => {
        test(`${who} subscribes ${filter}: SUBACK ${fmtCode(suback)}, receives ${setOf(recv) || 'nothing'}`, () => {
            assert.equal(fmtCode(results[i].suback), fmtCode(suback), 'SUBACK reason code');
            assert.equal(results[i].received, setOf(recv), 'stream copies received');
        });
    });
});

describe('publish: PUBACK and what reaches the streams', () => {
    const results = [];

    before(async () => {
        const wit = await witness();
        const pubs = await tenantPublishers();
        const byWho = {};
        for (const who of Object.keys(SUBJECTS)) byWho[who] = await connectAs(who, 'pub');

        for (const [i, [who, topic]] of PUBLISH_TABLE.entries())
            results[i] = { puback: await publish(byWho[who], topic, { marker: `row-${i}` }, { qos: 1 }) };

        // The tenants' own publishers go last: once the witness has their copies, every row's
        // event has been through the broker.
        assert.equal(await publish(pubs.ta, TA_EVENT, { marker: 'control' }), 0);
        assert.equal(await publish(pubs.tb, TB_EVENT, { marker: 'control' }), 0);
        await wit.inbox.waitFor((m) => m.json?.marker === 'control', { count: 4, what: 'the control copies' });
        await sleepMs(GRACE_MS);

        for (const [i] of PUBLISH_TABLE.entries()) {
            const got = wit.inbox.matching((m) => m.json?.marker === `row-${i}`).map((m) => label(m.topic));
            results[i].fanned = got.sort().join(' ');
            results[i].stillConnected = !byWho[PUBLISH_TABLE[i][0]].closed;
        }
        printTable(
            'publish table (expected -> actual)',
            ['who', 'topic', 'PUBACK', 'stream copies'],
            PUBLISH_TABLE.map(([who, topic, puback, fanned], i) => {
                const r = results[i];
                const ok = r.puback === puback && r.fanned === setOf(fanned);
                return [
                    who,
                    topic,
                    `${fmtCode(puback)} -> ${fmtCode(r.puback)}`,
                    `${setOf(fanned) || '-'} -> ${r.fanned || '-'}${ok ? '' : '   <-- MISMATCH'}`,
                ];
            }),
        );
    });

    PUBLISH_TABLE.forEach(([who, topic, puback, fanned], i) => {
        test(`${who} publishes ${topic}: PUBACK ${fmtCode(puback)}, fans out to ${setOf(fanned) || 'nothing'}`, () => {
            assert.equal(fmtCode(results[i].puback), fmtCode(puback), 'PUBACK reason code');
            assert.equal(results[i].fanned, setOf(fanned), 'stream copies');
            assert.equal(results[i].stillConnected, true, 'a refused publish must not cost the connection');
        });
    });
});

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await Promise.all(clients.map((c) => end(c)));
    await w.close();
});
