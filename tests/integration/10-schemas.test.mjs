// The JSON Schemas compile under Ajv's strict 2020-12 mode, the examples validate against
// them, broken documents are rejected, and `mqpushctl check-config` agrees with the schema on
// the example and on the broken variants (naming the JSON path of each problem).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXAMPLES_DIR, MQPUSHCTL, SCHEMAS_DIR, requireFile } from './lib/env.mjs';
import { run } from './lib/proc.mjs';
import { describeErrors, listSchemas, projectAjv, validatorFor } from './lib/schemas.mjs';
import { makeTempDir, removeTempDir, writeJson } from './lib/tmp.mjs';
import { keygen } from './lib/tokens.mjs';

const EXPECTED_SCHEMAS = ['streams.schema.json', 'stream-event.schema.json', 'bridge.schema.json'];
const clone = (v) => structuredClone(v);

function examples() {
    return fs
        .readdirSync(EXAMPLES_DIR)
        .filter((n) => n.endsWith('.json'))
        .sort()
        .map((name) => {
            const file = path.join(EXAMPLES_DIR, name);
            return { name, file, doc: JSON.parse(fs.readFileSync(file, 'utf8')) };
        });
}

/**
 * The schema an example declares with "$schema" (a path relative to the example), or else
 * schemas/<example name>.schema.json.
 */
function schemaOfExample(ex) {
    if (typeof ex.doc.$schema === 'string' && !/^[a-z]+:/i.test(ex.doc.$schema))
        return path.relative(SCHEMAS_DIR, path.resolve(EXAMPLES_DIR, ex.doc.$schema));
    return ex.name.replace(/\.json$/, '.schema.json');
}

describe('schemas', () => {
    test('the expected schemas exist', () => {
        const names = listSchemas().map((s) => s.name);
        for (const expected of EXPECTED_SCHEMAS)
            assert.ok(names.includes(expected), `schemas/${expected} is missing (have: ${names.join(', ') || 'none'})`);
    });

    test('every schema compiles with Ajv 2020-12 in strict mode (with formats)', () => {
        const schemas = listSchemas();
        assert.ok(schemas.length > 0, 'no schemas/*.schema.json');
        const ajv = projectAjv();
        for (const { name, schema } of schemas) {
            assert.equal(
                schema.$schema,
                'https://json-schema.org/draft/2020-12/schema',
                `${name} must declare draft 2020-12`,
            );
            // getSchema() compiles the schema added under this key; compile errors throw.
            assert.ok(ajv.getSchema(schema.$id ?? name), `${name} does not compile`);
        }
    });

    test('every example validates against its schema', () => {
        const ajv = projectAjv();
        const exs = examples();
        assert.ok(
            exs.some((e) => e.name === 'streams.json'),
            'examples/streams.json is missing',
        );
        for (const ex of exs) {
            const schemaName = schemaOfExample(ex);
            assert.ok(
                fs.existsSync(path.join(SCHEMAS_DIR, schemaName)),
                `examples/${ex.name}: no schema ${schemaName}`,
            );
            const validate = validatorFor(ajv, schemaName);
            assert.ok(validate(ex.doc), `examples/${ex.name} against ${schemaName}:\n${describeErrors(validate)}`);
        }
    });
});

// Broken variants of examples/streams.json. Each names the path check-config must report and
// the JSON pointer at (or under) which the schema must complain.
// prettier-ignore
const BROKEN_STREAMS = [
    {
        what: 'tenant id with a topic separator',
        change: (d) => { d.tenants['ac/me'] = d.tenants.acme; delete d.tenants.acme; },
        path: /^\$\.tenants\["ac\/me"\]/m,
        pointer: '/tenants',
    },
    {
        what: 'publicSubscribe is a string',
        change: (d) => { d.tenants.acme.streams.orders.publicSubscribe = 'no'; },
        path: /^\$\.tenants\.acme\.streams\.orders\.publicSubscribe: /m,
        pointer: '/tenants/acme/streams/orders/publicSubscribe',
    },
    {
        what: 'event entry without a name',
        change: (d) => { delete d.tenants.acme.streams.orders.events[0].name; },
        path: /^\$\.tenants\.acme\.streams\.orders\.events\[0\]/m,
        pointer: '/tenants/acme/streams/orders/events/0',
    },
    {
        what: 'map value is a number',
        change: (d) => { d.tenants.acme.streams.orders.events[0].map.orderId = 42; },
        path: /^\$\.tenants\.acme\.streams\.orders\.events\[0\]\.map/m,
        pointer: '/tenants/acme/streams/orders/events/0/map',
    },
    {
        what: 'subscriberRoles is not an array',
        change: (d) => { d.tenants.acme.streams.orders.subscriberRoles = 'order-viewer'; },
        path: /^\$\.tenants\.acme\.streams\.orders\.subscriberRoles: /m,
        pointer: '/tenants/acme/streams/orders/subscriberRoles',
    },
    {
        what: 'subscriberCriteria names a claim with a number',
        change: (d) => { d.tenants.acme.streams['my-orders'].subscriberCriteria.customerId = { claim: 7 }; },
        path: /^\$\.tenants\.acme\.streams\.my-orders\.subscriberCriteria\.customerId: /m,
        pointer: '/tenants/acme/streams/my-orders/subscriberCriteria/customerId',
    },
    {
        what: 'subscriberCriteria maps an event path to a bare string',
        change: (d) => { d.tenants.acme.streams['my-orders'].subscriberCriteria = { 'payload.order.customerId': 'sub' }; },
        path: /^\$\.tenants\.acme\.streams\.my-orders\.subscriberCriteria\["payload\.order\.customerId"\]: /m,
        pointer: '/tenants/acme/streams/my-orders/subscriberCriteria',
    },
    {
        what: 'tenants is an array',
        change: (d) => { d.tenants = [d.tenants.acme]; },
        path: /^\$\.tenants: /m,
        pointer: '/tenants',
    },
    {
        what: 'max_event_bytes is negative',
        change: (d) => { d.limits.max_event_bytes = -1; },
        path: /^\$\.limits\.max_event_bytes: /m,
        pointer: '/limits/max_event_bytes',
    },
];

const STREAM_EVENT = () => ({
    id: '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f',
    namespace: 'order-service',
    name: 'order-shipped',
    timestamp: '2025-01-02T03:04:05.678Z',
    correlationId: 'c-1',
    context: { tenant: 'acme' },
    orderId: 'o-1',
});
// prettier-ignore
const BROKEN_STREAM_EVENTS = [
    { what: 'without id', change: (e) => { delete e.id; } },
    { what: 'without namespace', change: (e) => { delete e.namespace; } },
    { what: 'name is a number', change: (e) => { e.name = 7; } },
    { what: 'an array instead of an object', change: () => [STREAM_EVENT()] },
];

describe('broken documents are rejected by the schemas', () => {
    let streamsExample;
    before(() => {
        streamsExample = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, 'streams.json'), 'utf8'));
    });

    for (const b of BROKEN_STREAMS) {
        test(`streams: ${b.what}`, () => {
            const validate = validatorFor(projectAjv(), 'streams.schema.json');
            assert.ok(validate(streamsExample), `the unbroken example must pass: ${describeErrors(validate)}`);
            const doc = clone(streamsExample);
            b.change(doc);
            assert.equal(validate(doc), false, 'the schema accepted the broken document');
            assert.ok(
                validate.errors.some((e) => e.instancePath.startsWith(b.pointer)),
                `no error at ${b.pointer}:\n${describeErrors(validate)}`,
            );
        });
    }

    test('stream event: a complete one passes', () => {
        const validate = validatorFor(projectAjv(), 'stream-event.schema.json');
        assert.ok(validate(STREAM_EVENT()), describeErrors(validate));
    });
    for (const b of BROKEN_STREAM_EVENTS) {
        test(`stream event: ${b.what}`, () => {
            const validate = validatorFor(projectAjv(), 'stream-event.schema.json');
            const e = STREAM_EVENT();
            const doc = b.change(e) ?? e;
            assert.equal(validate(doc), false, 'the schema accepted the broken event');
        });
    }
});

describe('mqpushctl check-config', () => {
    let dir;
    let example;

    /** A copy of the example in dir, with freshly generated keys where its jwks_file entries point. */
    before(async () => {
        requireFile(MQPUSHCTL, 'mqpushctl');
        dir = await makeTempDir('schemas');
        example = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, 'streams.json'), 'utf8'));
        const jwksFiles = [example.service?.jwks_file, ...Object.values(example.tenants).map((t) => t.jwks_file)];
        for (const rel of jwksFiles.filter(Boolean)) {
            const target = path.join(dir, rel);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            const name = path.basename(rel).replace(/\.jwks\.json$|\.json$/, '');
            const keys = await keygen(path.dirname(target), name, { type: 'ec' });
            fs.renameSync(keys.jwksFile, target);
        }
    });
    after(async () => {
        await removeTempDir(dir);
    });

    const check = (file) => run(MQPUSHCTL, ['check-config', file]);

    test('accepts the example (with its key files in place)', async () => {
        const file = await writeJson(path.join(dir, 'streams.json'), example);
        const res = await check(file);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /^ok: /);
        assert.match(res.stdout, /2 tenants/);
    });

    test('refuses the example when a JWKS file is missing, naming jwks_file', async () => {
        const doc = clone(example);
        doc.tenants.acme.jwks_file = 'keys/does-not-exist.jwks.json';
        const res = await check(await writeJson(path.join(dir, 'missing-jwks.json'), doc));
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^\$\.tenants\.acme\.jwks_file: .+/m);
    });

    for (const [i, b] of BROKEN_STREAMS.entries()) {
        test(`refuses: ${b.what}, naming the JSON path`, async () => {
            const doc = clone(example);
            b.change(doc);
            const res = await check(await writeJson(path.join(dir, `broken-${i}.json`), doc));
            assert.equal(res.code, 1, `exit status (stdout: ${res.stdout})`);
            assert.equal(res.stdout, '');
            assert.match(res.stderr, b.path);
            for (const line of res.stderr.trim().split('\n'))
                assert.match(line, /^\$[^ ]*: \S/, 'every error line is "<json path>: <message>"');
        });
    }

    test('lists every problem of a document with several', async () => {
        const doc = clone(example);
        doc.tenants.acme.streams.orders.publicSubscribe = 'no';
        doc.tenants.demo.streams['application-health'].events[0].criteria = 'not an object';
        doc.limits.max_event_bytes = -1;
        const res = await check(await writeJson(path.join(dir, 'broken-many.json'), doc));
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^\$\.tenants\.acme\.streams\.orders\.publicSubscribe: /m);
        assert.match(res.stderr, /^\$\.tenants\.demo\.streams\.application-health\.events\[0\]\.criteria: /m);
        assert.match(res.stderr, /^\$\.limits\.max_event_bytes: /m);
    });

    test('refuses a file that is not JSON', async () => {
        const file = path.join(dir, 'not-json.json');
        fs.writeFileSync(file, '{"tenants": {');
        const res = await check(file);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^\$: .*JSON/m);
    });
});
