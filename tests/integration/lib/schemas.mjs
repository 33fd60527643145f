// JSON Schema validation of the project's documents with Ajv (draft 2020-12, strict mode).
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { SCHEMAS_DIR } from './env.mjs';

/** Every schemas/*.schema.json as {file, name, schema}, sorted by name. */
export function listSchemas() {
    let names;
    try {
        names = fs.readdirSync(SCHEMAS_DIR).filter((n) => n.endsWith('.schema.json'));
    } catch {
        names = [];
    }
    return names.sort().map((name) => {
        const file = path.join(SCHEMAS_DIR, name);
        return { file, name, schema: JSON.parse(fs.readFileSync(file, 'utf8')) };
    });
}

/**
 * An Ajv instance that knows every schema of the project (so they may $ref one another).
 * Strict mode turns unknown keywords, ignored constraints and the like into errors.
 */
export function projectAjv() {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const { name, schema } of listSchemas()) ajv.addSchema(schema, schema.$id ?? name);
    return ajv;
}

/** The compiled validator of schemas/<name> (e.g. "stream-event.schema.json"). */
export function validatorFor(ajv, name) {
    const file = path.join(SCHEMAS_DIR, name);
    if (!fs.existsSync(file)) throw new Error(`schemas/${name} is missing`);
    const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
    const validate = ajv.getSchema(schema.$id ?? name);
    if (!validate) throw new Error(`schema ${name} did not compile`);
    return validate;
}

/** Ajv's errors as readable lines. */
export function describeErrors(validate) {
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('\n');
}
