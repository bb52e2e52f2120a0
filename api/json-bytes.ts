// JSON that is already written: a document PostgreSQL wrote (or assembled from what it wrote) and
// the API sends on as it is, without parsing it into objects and serialising them again. It is
// kept as the UTF-8 bytes that go on the wire (issue 13: a page of 139 KB as one JavaScript string
// was built, flattened and encoded again for every reply). The brand says which contract type the
// bytes are the JSON of, so a route sends them only where that type is the reply, and a caller in
// the process that needs the objects parses them with that type.

declare const jsonOf: unique symbol

/** The JSON of a value of type T, as UTF-8 bytes. */
export type JsonBytes<T> = Buffer & { readonly [jsonOf]: T }

/** The value the bytes are the JSON of. */
export const parseJsonBytes = <T>(bytes: JsonBytes<T>): T => JSON.parse(bytes.toString('utf8')) as T
