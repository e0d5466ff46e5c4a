//! JSON Schema helpers for the read models (feature `schema`): dates cross as RFC 3339 text.

use schemars::{json_schema, Schema, SchemaGenerator};

/// An RFC 3339 date and time.
pub fn date_time(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "format": "date-time"})
}

/// An RFC 3339 date and time, or null.
pub fn date_time_or_null(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "format": "date-time"})
}
