// The peer of bench/webpush: npm web-push preparing push requests, flat out, in one process.
// webpush.generateRequestDetails() encrypts the payload (RFC 8291 aes128gcm, a fresh ephemeral
// key per call) and signs a new VAPID JWT (ES256) per call: what wpbench does per message, with
// the same kind of subscriptions (p256dh, auth, endpoints at the same five push services) and
// stream events of the same shape and size (bench/webpush/workload.c; keep the two in step).
//
// usage: node wpbench.mjs [--duration S] [--warmup S] [--start-at MS] [--subs N] [--origins N]
//                         [--label L]
//   --start-at MS  wall-clock time (ms since the epoch) at which to start measuring, so that
//                  processes started together measure the same window (default: after warm-up)
// Prints one JSON line. Also: node wpbench.mjs --decrypt FILE checks a message wpbench wrote
// with --sample by decrypting it with http_ece, the library web-push encrypts with.
import { createECDH, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import webpush from 'web-push';

const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

if (args.includes('--decrypt')) {
    const ece = require('http_ece');
    const s = JSON.parse(readFileSync(opt('decrypt'), 'utf8'));
    const ua = createECDH('prime256v1');
    ua.setPrivateKey(Buffer.from(s.ua_private, 'base64url'));
    const plain = ece.decrypt(Buffer.from(s.body, 'base64url'), {
        version: 'aes128gcm',
        privateKey: ua,
        authSecret: s.auth,
    });
    const want = Buffer.from(s.plain, 'base64url');
    if (!plain.equals(want) || !ua.getPublicKey().equals(Buffer.from(s.p256dh, 'base64url'))) {
        console.error('peer: the decrypted message differs from what was encrypted');
        process.exit(1);
    }
    JSON.parse(plain.toString('utf8'));
    console.log(`decrypted ${plain.length} bytes with http_ece`);
    process.exit(0);
}

const duration = Number(opt('duration', '5'));
const warmup = Number(opt('warmup', '1'));
const startAt = Number(opt('start-at', '0'));
const nsubs = Number(opt('subs', '64'));
const norigins = Number(opt('origins', '5'));
const label = opt('label', '');

const endpointPrefix = [
    'https://fcm.googleapis.com/fcm/send/',
    'https://updates.push.services.mozilla.com/wpush/v2/',
    'https://web.push.apple.com/',
    'https://wns2-par02p.notify.windows.com/w/?token=',
    'https://push.example.net:8443/push/',
];

const subs = [];
for (let i = 0; i < nsubs; i++) {
    const ua = createECDH('prime256v1');
    subs.push({
        endpoint: endpointPrefix[i % norigins] + randomBytes(72).toString('base64url'),
        keys: {
            p256dh: ua.generateKeys().toString('base64url'),
            auth: randomBytes(16).toString('base64url'),
        },
    });
}
const vapid = webpush.generateVAPIDKeys();
const options = {
    vapidDetails: {
        subject: 'mailto:ops@example.com',
        publicKey: vapid.publicKey,
        privateKey: vapid.privateKey,
    },
    TTL: 3600,
    contentEncoding: 'aes128gcm',
};

// Stream events as wpbench makes them (wpb_event_next): same fields, about 300 bytes.
let rng = 0x9e3779b97f4a7c15n * BigInt(process.pid + 1);
const mask = (1n << 64n) - 1n;
const rand = () => {
    rng ^= rng >> 12n;
    rng ^= (rng << 25n) & mask;
    rng ^= rng >> 27n;
    return Number(((rng * 0x2545f4914f6cdd1dn) & mask) >> 11n);
};
const kinds = ['created', 'updated', 'shipped', 'cancelled'];
const status = ['pending', 'paid', 'packed', 'shipped', 'delivered'];
const tier = ['basic', 'silver', 'gold'];
const note =
    'Leave the parcel with the neighbour at number 12 if nobody answers; the side gate is ' +
    'open from 8 to 18 on weekdays.';
const hex = (x, n) => x.toString(16).padStart(n, '0').slice(-n);
const two = (x) => String(x).padStart(2, '0');
let seq = 0;
const nextEvent = () => {
    const r = rand(), t = rand();
    seq++;
    return JSON.stringify({
        id: `${hex(t, 8)}-${hex(t >>> 3, 4)}-7${hex(t >>> 7, 3)}-${hex(0x8000 | (r & 0x3fff), 4)}-${hex(r, 12)}`,
        type: `app/order.${kinds[r % 4]}`,
        seq,
        time: `2026-${two(1 + (t % 12))}-${two(1 + (t % 28))}T${two(t % 24)}:${two(t % 60)}:${two((t >>> 6) % 60)}.${String(r % 1000).padStart(3, '0')}Z`,
        data: {
            orderId: `ord_${String(r % 10000000000).padStart(10, '0')}`,
            status: status[(r >>> 8) % 5],
            items: 1 + ((r >>> 12) % 9),
            total: `${5 + ((r >>> 16) % 2000)}.${two((r >>> 4) % 100)}`,
            customer: { id: `cus_${hex(r >>> 1, 8)}`, tier: tier[(r >>> 24) % 3] },
            note: note.slice(0, 5 + ((r >>> 5) % 71)),
        },
    });
};

let messages = 0, plainBytes = 0, bodyBytes = 0, authBytes = 0, i = 0;
const one = () => {
    const payload = nextEvent();
    const req = webpush.generateRequestDetails(subs[i % nsubs], payload, options);
    i++;
    messages++;
    plainBytes += payload.length;
    bodyBytes += req.body.length;
    authBytes += req.headers.Authorization.length;
};

const warmEnd = startAt > 0 ? startAt : Date.now() + warmup * 1000;
while (Date.now() < warmEnd)
    one();
messages = plainBytes = bodyBytes = authBytes = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(duration * 1e9));
let t = t0;
while (t < end) {
    one();
    t = process.hrtime.bigint();
}
const wall = Number(t - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
    what: 'web-push',
    label,
    pid: process.pid,
    node: process.versions.node,
    openssl: process.versions.openssl,
    subs: nsubs,
    origins: norigins,
    duration_s: Number(wall.toFixed(3)),
    messages,
    per_s: Number((messages / wall).toFixed(1)),
    // CPU time of the whole process (garbage collector threads too) over wall time
    busy: Number(((cpu.user + cpu.system) / 1e6 / wall).toFixed(3)),
    plain_avg: Number((plainBytes / messages).toFixed(1)),
    body_avg: Number((bodyBytes / messages).toFixed(1)),
    auth_header_avg: Number((authBytes / messages).toFixed(1)),
}));
