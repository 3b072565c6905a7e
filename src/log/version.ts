// The log record's schema version, apart from the schema itself so that the
// gate can stamp records without loading the schema library.
export const RECORD_VERSION = 1;
