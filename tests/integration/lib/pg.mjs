// A throwaway PostgreSQL for one test file (tests/lib/pg-cluster.sh: a new cluster on
// 127.0.0.1, on a free port, with trust authentication), started with the world that asks for
// it (createWorld({postgresql: true})) and stopped with it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SOURCE_DIR } from './env.mjs';

const run = promisify(execFile);

export const PG_CLUSTER = path.join(SOURCE_DIR, 'tests', 'lib', 'pg-cluster.sh');

/**
 * Start a cluster whose state file lives in dir. Resolves {url, query(sql), stop()}: url is
 * its connection URI (for a bridge's "store"), query() runs sql with psql and resolves its
 * rows as text (columns split by "|", rows by newlines), stop() ends it and removes its files.
 */
export async function startPostgres(dir) {
    const state = path.join(dir, 'pg-cluster.state');
    const { stdout } = await run(PG_CLUSTER, ['start', state], { timeout: 120000 });
    const url = stdout.trim().split('\n').pop();
    const bin = /^PG_BIN=(.*)$/m.exec(fs.readFileSync(state, 'utf8'))?.[1] ?? '';
    const psql = bin ? path.join(bin, 'psql') : 'psql';
    return {
        url,
        async query(sql) {
            const r = await run(psql, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, url], { timeout: 30000 });
            return r.stdout.trim();
        },
        async stop() {
            await run(PG_CLUSTER, ['stop', state], { timeout: 60000 });
        },
    };
}
