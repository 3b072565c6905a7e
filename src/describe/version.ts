// The describe answer's shape version, apart from its schema so that the gate
// writes it without loading the schema library.
export const DESCRIBE_VERSION = 1;
