// JSON that is already text: a document PostgreSQL wrote (or assembled from what it wrote) and the
// API sends on as it is, without parsing it into objects and serialising them again. The brand
// says which contract type the text is the JSON of, so a route sends it only where that type is
// the reply, and a caller in the process that needs the objects parses it with that type.

declare const jsonOf: unique symbol

/** The JSON text of a value of type T. */
export type JsonText<T> = string & { readonly [jsonOf]: T }

/** The value the text is the JSON of. */
export const parseJsonText = <T>(text: JsonText<T>): T => JSON.parse(text) as T
