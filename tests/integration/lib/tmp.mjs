// A private scratch directory per test file (ctest may run two files at once).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function makeTempDir(label) {
    return fs.mkdtemp(path.join(os.tmpdir(), `mqp-it-${label}-`));
}

/** Remove dir; MQP_KEEP_TMP=1 keeps it for a post-mortem (broker log, configuration). */
export async function removeTempDir(dir) {
    if (!dir || process.env.MQP_KEEP_TMP === '1') return;
    await fs.rm(dir, { recursive: true, force: true });
}

export async function writeJson(file, value) {
    await fs.writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
    return file;
}
