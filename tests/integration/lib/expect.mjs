// A small, independent model of the stream projection and criteria rules (core/projection.h,
// core/criteria.h, core/jsonpath.h), for computing expected stream copies in tests from the
// published data. It covers the path forms the tests use: dotted keys, [n] and .n indexes.
import { isDeepStrictEqual } from 'node:util';

/** Split "a.b[0].c" into ["a", "b", "0", "c"]. */
function segments(path) {
    return path.replace(/\[(\d+)\]/g, '.$1').split('.');
}

/** {found, value} for path in root, lodash get() style on JSON structure only. */
export function getPath(root, path) {
    let cur = root;
    for (const seg of segments(path)) {
        if (Array.isArray(cur)) {
            if (!/^(0|[1-9]\d*)$/.test(seg) || Number(seg) >= cur.length) return { found: false };
            cur = cur[Number(seg)];
        } else if (cur !== null && typeof cur === 'object') {
            if (!Object.hasOwn(cur, seg)) return { found: false };
            cur = cur[seg];
        } else {
            return { found: false };
        }
    }
    return { found: true, value: cur };
}

function projectInto(map, event, out) {
    for (const [key, spec] of Object.entries(map)) {
        if (typeof spec === 'string') {
            const r = getPath(event, spec);
            if (r.found) out[key] = r.value;
        } else {
            out[key] = projectInto(spec, event, {});
        }
    }
    return out;
}

/** The body a map yields: correlationId and context (when present) plus the mapped keys. */
export function project(map, event) {
    const out = {};
    for (const carried of ['correlationId', 'context']) {
        if (Object.hasOwn(event, carried)) out[carried] = event[carried];
    }
    return projectInto(map, event, out);
}

/** Criteria: every path exists and deep-equals its value; '' or null correlationId is no constraint. */
export function matches(criteria, event) {
    for (const [path, want] of Object.entries(criteria ?? {})) {
        if (path === 'correlationId' && (want === '' || want === null)) continue;
        const r = getPath(event, path);
        if (!r.found || !isDeepStrictEqual(r.value, want)) return false;
    }
    return true;
}

/** The copy body (without the four stamps) a stream entry gives for event, or null for none. */
export function expectedCopy(entry, event) {
    if (!matches(entry.criteria, event)) return null;
    if (entry.map) return project(entry.map, event);
    const { id, namespace, name, timestamp, ...rest } = event;
    return rest;
}
