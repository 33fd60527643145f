// Child processes with bounded run time, for the command-line tools under test.
import { spawn } from 'node:child_process';

/**
 * Run cmd with args; resolves {code, signal, stdout, stderr} whatever the exit status.
 * Rejects only when the program cannot be started or exceeds timeoutMs (then it is killed).
 */
export function run(cmd, args, { input, timeoutMs = 30000, env, cwd } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
        const out = [];
        const err = [];
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => err.push(d));
        child.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            const res = {
                code,
                signal,
                stdout: Buffer.concat(out).toString('utf8'),
                stderr: Buffer.concat(err).toString('utf8'),
            };
            if (timedOut) {
                reject(new Error(`${cmd} ${args.join(' ')} ran longer than ${timeoutMs} ms\n${res.stderr}`));
                return;
            }
            resolve(res);
        });
        child.stdin.on('error', () => {});
        child.stdin.end(input ?? '');
    });
}

/** Run and insist on exit status 0; resolves stdout. */
export async function runOk(cmd, args, opts) {
    const res = await run(cmd, args, opts);
    if (res.code !== 0) {
        throw new Error(`${cmd} ${args.join(' ')} exited with ${res.code ?? res.signal}\n${res.stderr}`);
    }
    return res.stdout;
}
