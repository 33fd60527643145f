// The peer of bench/set: npm jose signing Security Event Tokens (RFC 8417) with ES256, flat
// out, in one process. Per SET it does what setbench does with the bridge's code: a new stream
// event (the same events as bench/set/workload.c: keep the two in step), parsed, its subject
// and claims (SSF 1.0 section 4.1: iss, aud, iat, jti, sub_id, txn, one event), then
// new SignJWT(claims).setProtectedHeader({alg: 'ES256', typ: 'secevent+jwt', kid}).sign(key).
//
// usage: node setbench.mjs [--duration S] [--warmup S] [--start-at MS] [--label L]
//   --start-at MS  wall-clock time (ms since the epoch) at which to start measuring, so that
//                  processes started together measure the same window (default: after warm-up)
// Prints one JSON line. Also: node setbench.mjs --verify FILE checks a SET that setbench wrote
// with --sample against its JWKS with jose (jwtVerify: signature, typ, iss, aud).
import { readFileSync } from 'node:fs';
import * as jose from 'jose';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

const ISS = 'https://push.example.com/ssf/bench';
const AUD = 'receiver-1';
const STREAM_ID = 'Zk3pQm0x7nT1vR8sW2yB4A';
const TYPE = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

if (args.includes('--verify')) {
    const s = JSON.parse(readFileSync(opt('verify'), 'utf8'));
    const { payload, protectedHeader } = await jose.jwtVerify(s.set, jose.createLocalJWKSet(s.jwks), {
        issuer: s.iss,
        audience: s.aud,
        typ: 'secevent+jwt',
        algorithms: ['ES256'],
    });
    const events = Object.entries(payload.events);
    const want = s.event.payload;
    if (events.length !== 1 || events[0][0] !== TYPE || events[0][1].seq !== want.seq ||
        payload.sub_id?.id !== want.user || payload.jti !== `${s.event.id}.${STREAM_ID}` ||
        payload.exp !== undefined || payload.sub !== undefined) {
        console.error('peer: the SET does not carry the claims expected', payload);
        process.exit(1);
    }
    console.log(`jose ${protectedHeader.alg} verified the bridge's SET (${s.set.length} bytes, kid ${protectedHeader.kid})`);
    process.exit(0);
}

const duration = Number(opt('duration', '5'));
const warmup = Number(opt('warmup', '1'));
const startAt = Number(opt('start-at', '0'));
const label = opt('label', '');

// Events as setbench makes them (setb_event_next): xorshift32 in plain numbers.
let x = (2463534242 + (process.pid % 64) * 7919) >>> 0;
const rnd = () => {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    return x;
};
const reasons = ['admin_logout', 'password_changed', 'risk_detected', 'device_lost'];
const initiators = ['admin', 'user', 'policy', 'system'];
const hex = (v, n) => v.toString(16).padStart(n, '0');
const two = (v) => String(v).padStart(2, '0');
let seq = 0;
const nextEvent = () => {
    const a = rnd(), b = rnd(), c = rnd(), d = rnd();
    seq++;
    return JSON.stringify({
        id: `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b & 0xfff, 3)}-${hex(0x8000 | (c >>> 18), 4)}-${hex(d, 8)}${hex(c & 0xffff, 4)}`,
        namespace: 'auth',
        name: 'logout',
        timestamp: `2026-05-${two(1 + (a % 28))}T${two(b % 24)}:${two(c % 60)}:${two(d % 60)}.${String(a % 1000).padStart(3, '0')}Z`,
        payload: {
            user: `user-${String(d % 1000000).padStart(6, '0')}`,
            session: `sid-${hex(a, 8)}${hex(c, 8)}`,
            reason: reasons[b % 4],
            initiating_entity: initiators[c % 4],
            ip: `203.0.113.${d % 256}`,
            seq,
        },
    });
};

const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
const kid = await jose.calculateJwkThumbprint(await jose.exportJWK(publicKey));

// The claims the bridge's transmitter makes of a stream event (bridge/ssf/set_make.c).
const claimsOf = (text, iat) => {
    const ev = JSON.parse(text);
    const p = ev.payload ?? {};
    const event = { ...p };
    if (!('event_timestamp' in event)) event.event_timestamp = iat;
    const sub_id = typeof p.user === 'string' || typeof p.user === 'number'
        ? { format: 'opaque', id: String(p.user) }
        : { format: 'opaque', id: 'bench/security' };
    return { iss: ISS, aud: AUD, iat, jti: `${ev.id}.${STREAM_ID}`, sub_id, txn: ev.id, events: { [TYPE]: event } };
};

let sets = 0, eventBytes = 0, setBytes = 0;
const one = async () => {
    const text = nextEvent();
    const set = await new jose.SignJWT(claimsOf(text, Math.floor(Date.now() / 1000)))
        .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid })
        .sign(privateKey);
    sets++;
    eventBytes += text.length;
    setBytes += set.length;
};

const warmEnd = startAt > 0 ? startAt : Date.now() + warmup * 1000;
while (Date.now() < warmEnd) await one();
sets = eventBytes = setBytes = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(duration * 1e9));
let t = t0;
while (t < end) {
    await one();
    t = process.hrtime.bigint();
}
const wall = Number(t - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
    what: 'jose',
    label,
    pid: process.pid,
    node: process.versions.node,
    openssl: process.versions.openssl,
    jose: JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8')).version,
    duration_s: Number(wall.toFixed(3)),
    sets,
    per_s: Number((sets / wall).toFixed(1)),
    // CPU time of the whole process (garbage collector threads too) over wall time
    busy: Number(((cpu.user + cpu.system) / 1e6 / wall).toFixed(3)),
    event_avg: Number((eventBytes / sets).toFixed(1)),
    set_avg: Number((setBytes / sets).toFixed(1)),
}));
