// What the soak's Node processes (clients.mjs, sink.mjs) share: options, the latency histogram,
// the per-consumer tally that counts stream events by id, and the control signals of run.sh.
// Events come from bench/sse/publisher.c (uppub): {"payload": {"t": <CLOCK_MONOTONIC ns>,
// "seq": <n>, "pad": "..."}}; process.hrtime is the same clock on Linux, so a consumer reads its
// latency as hrtime at arrival minus t.

/** --name value from argv, else dflt. */
export function arg(name, dflt) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
export const num = (name, dflt) => Number(arg(name, dflt));

export const nowNs = () => process.hrtime.bigint();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A whole number of milliseconds in [lo, hi). */
export const between = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo));

/** Log-linear histogram of microseconds: 16 buckets per power of two (about 4 % wide). */
export class Hist {
    constructor() {
        this.counts = new Map();
        this.n = 0;
        this.max = 0;
    }

    add(us) {
        const v = Math.max(1, us);
        const b = Math.floor(Math.log2(v) * 16);
        this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
        this.n++;
        if (v > this.max) this.max = v;
    }

    /** The upper edge of the bucket holding quantile q, in microseconds. */
    quantile(q) {
        if (this.n === 0) return null;
        const rank = Math.ceil(q * this.n);
        let seen = 0;
        for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
            seen += this.counts.get(b);
            if (seen >= rank) return Math.min(this.max, 2 ** ((b + 1) / 16));
        }
        return this.max;
    }

    summary() {
        const ms = (us) => (us === null ? null : Math.round(us) / 1000);
        return { n: this.n, p50_ms: ms(this.quantile(0.5)), p99_ms: ms(this.quantile(0.99)), max_ms: ms(this.n ? this.max : null) };
    }
}

/**
 * One stream's events as one consumer sees them. Each event is counted under its id: the first
 * id seen for a seq (by any consumer of the process, see ids) is that event's id, a copy with
 * another id for the same seq is an error, and a second copy of an id a duplicate. seq is the
 * publisher's number, which only gives the bitmap its index.
 */
export class Tally {
    constructor(channel, name, stream, ids) {
        this.channel = channel;
        this.name = name;
        this.stream = stream;
        this.ids = ids; // Map seq -> id, shared by the consumers of one stream in this process
        this.seen = new Uint8Array(1024);
        this.distinct = 0;
        this.duplicates = 0;
        this.mismatched = 0;
        this.maxSeq = 0;
    }

    /** An event with this id and seq arrived; returns false for a duplicate or a mismatch. */
    got(id, seq) {
        if (!Number.isInteger(seq) || seq < 1 || typeof id !== 'string') {
            this.mismatched++;
            return false;
        }
        const known = this.ids.get(seq);
        if (known === undefined) this.ids.set(seq, id);
        else if (known !== id) {
            this.mismatched++;
            return false;
        }
        if (seq >= this.seen.length) {
            const grown = new Uint8Array(Math.max(seq + 1, this.seen.length * 2));
            grown.set(this.seen);
            this.seen = grown;
        }
        if (seq > this.maxSeq) this.maxSeq = seq;
        if (this.seen[seq]) {
            this.duplicates++;
            return false;
        }
        this.seen[seq] = 1;
        this.distinct++;
        return true;
    }

    result() {
        const missing = [];
        for (let s = 1; s <= this.maxSeq && missing.length < 5; s++) if (!this.seen[s]) missing.push(s);
        return {
            name: this.name,
            stream: this.stream,
            distinct: this.distinct,
            duplicates: this.duplicates,
            mismatched: this.mismatched,
            max_seq: this.maxSeq,
            first_missing: missing,
        };
    }
}

/** The channels of one process: tallies, latency and errors per channel, printed as one JSON line. */
export class Report {
    constructor(role) {
        this.role = role;
        this.channels = new Map();
        this.idsByStream = new Map();
    }

    channel(name) {
        let c = this.channels.get(name);
        if (!c) {
            c = { tallies: [], lat: new Hist(), errors: 0, notes: new Map(), counters: {} };
            this.channels.set(name, c);
        }
        return c;
    }

    tally(channel, name, stream) {
        if (!this.idsByStream.has(stream)) this.idsByStream.set(stream, new Map());
        const t = new Tally(channel, name, stream, this.idsByStream.get(stream));
        this.channel(channel).tallies.push(t);
        return t;
    }

    /** A stream event (parsed) for tally t: counted, and its latency when it is a first copy. */
    event(t, ev, atNs = nowNs()) {
        const p = ev?.payload;
        if (t.got(ev?.id, p?.seq) && typeof p.t === 'number') this.channel(t.channel).lat.add(Number(atNs - BigInt(p.t)) / 1000);
    }

    /** Count something that went wrong; the first message of each kind is kept. */
    error(channel, what) {
        const c = this.channel(channel);
        c.errors++;
        c.notes.set(what, (c.notes.get(what) ?? 0) + 1);
    }

    count(channel, counter, by = 1) {
        const c = this.channel(channel).counters;
        c[counter] = (c[counter] ?? 0) + by;
    }

    print(extra = {}) {
        const channels = {};
        for (const [name, c] of this.channels) {
            channels[name] = {
                consumers: c.tallies.map((t) => t.result()),
                latency: c.lat.summary(),
                errors: c.errors,
                error_kinds: Object.fromEntries([...c.notes].slice(0, 10)),
                ...c.counters,
            };
        }
        process.stdout.write(`${JSON.stringify({ role: this.role, channels, ...extra })}\n`);
    }
}

/**
 * run.sh's signals: SIGUSR1 starts the load (churn, posting), SIGUSR2 stops it (the publishers
 * are done, the drain begins), SIGTERM asks for the result line and the exit.
 */
export function controls({ go, halt, finish }) {
    process.on('SIGUSR1', () => go?.());
    process.on('SIGUSR2', () => halt?.());
    process.on('SIGTERM', async () => {
        try {
            await finish();
        } finally {
            process.exit(0);
        }
    });
}

/** The line run.sh waits for before it goes on. */
export function ready(what) {
    process.stdout.write(`${JSON.stringify({ ready: true, ...what })}\n`);
}

/** Print {"error"} and exit 1: a set-up step failed. */
export function fail(e) {
    process.stdout.write(`${JSON.stringify({ role: process.argv[2], error: String(e?.message ?? e) })}\n`);
    process.exit(1);
}
