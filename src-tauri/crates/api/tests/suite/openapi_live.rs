//! `/openapi.json` against the live API (issue 16): a real HTTPS server over a real SQLite
//! store answers every operation the document lists, and each JSON answer is checked against
//! the schema the document declares for its status code.
//!
//! The validator below is strict on purpose: an answer with a property its schema does not
//! list fails unless the schema allows more explicitly (`additionalProperties`), so a field
//! the API starts to send without the document fails CI. Every documented operation must be
//! called and give its documented success at least once, every status any answer has must be
//! documented for its operation, and every schema a response refers to must have checked at
//! least one real value, so an empty list cannot hide its item schema.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;

use common::{new_token, setup, Env, ALL_SCOPES};
use openapiv3::{
    AdditionalProperties, ArrayType, IntegerFormat, IntegerType, NumberFormat, NumberType, OpenAPI,
    Operation, Parameter, ReferenceOr, Schema, SchemaKind, StringFormat, StringType, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::{json, Value};
use tessera_api::catalog::{self, Access};
use tessera_core::model::{Networks, Role};
use tessera_core::policy::ExpiryRequest;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, CreatedToken, StatusAction};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------
// The validator: the OpenAPI 3.0 subset the document uses.
// ---------------------------------------------------------------------------------------

const SCHEMAS: &str = "#/components/schemas/";

/// A schema named by `$ref` or written in place.
#[derive(Clone, Copy)]
enum Target<'d> {
    Ref(&'d str),
    Inline(&'d Schema),
}

impl<'d> From<&'d ReferenceOr<Schema>> for Target<'d> {
    fn from(r: &'d ReferenceOr<Schema>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => Self::Ref(reference),
            ReferenceOr::Item(s) => Self::Inline(s),
        }
    }
}

impl<'d> From<&'d ReferenceOr<Box<Schema>>> for Target<'d> {
    fn from(r: &'d ReferenceOr<Box<Schema>>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => Self::Ref(reference),
            ReferenceOr::Item(s) => Self::Inline(s),
        }
    }
}

/// The schema a target stands for and, for a `$ref`, the component's name.
fn resolve<'d>(
    doc: &'d OpenAPI,
    target: Target<'d>,
) -> Result<(Option<&'d str>, &'d Schema), String> {
    let mut target = target;
    let mut name = None;
    for _ in 0..8 {
        match target {
            Target::Inline(s) => return Ok((name, s)),
            Target::Ref(r) => {
                let n = r
                    .strip_prefix(SCHEMAS)
                    .ok_or_else(|| format!("$ref {r} does not point into {SCHEMAS}"))?;
                let s = doc
                    .components
                    .as_ref()
                    .and_then(|c| c.schemas.get(n))
                    .ok_or_else(|| format!("$ref {r} names no schema of the document"))?;
                name = name.or(Some(n));
                target = s.into();
            }
        }
    }
    Err(format!("$ref chain from {name:?} is too long (a cycle?)"))
}

/// What may appear besides the listed properties.
#[derive(Clone, Copy, Default)]
enum Extra<'d> {
    /// Nothing: additionalProperties absent or false.
    #[default]
    Forbidden,
    /// Anything: additionalProperties true.
    Any,
    Schema(Target<'d>),
}

/// What an object schema, or an allOf of object schemas, declares.
#[derive(Default)]
struct Shape<'d> {
    properties: Vec<(&'d str, &'d ReferenceOr<Box<Schema>>)>,
    required: Vec<&'d str>,
    extra: Extra<'d>,
}

/// A short description of a JSON value for messages.
fn show(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{kind} {}...", text.chars().take(77).collect::<String>())
    } else {
        format!("{kind} {text}")
    }
}

/// Checks JSON values against the document's schemas. Each difference becomes one line: the
/// JSON path (`$.items[0].owner`) and what differed.
struct Validator<'d, 's> {
    doc: &'d OpenAPI,
    /// Component schemas that have checked a non-null value.
    seen: &'s mut BTreeSet<String>,
    errors: Vec<String>,
    /// The places already reported, with list indexes as `[*]`: one line for a property
    /// every item of a list has.
    places: BTreeSet<String>,
}

impl<'d, 's> Validator<'d, 's> {
    fn new(doc: &'d OpenAPI, seen: &'s mut BTreeSet<String>) -> Self {
        Self {
            doc,
            seen,
            errors: Vec::new(),
            places: BTreeSet::new(),
        }
    }

    fn fail(&mut self, at: &str, what: impl Display) {
        let mut place = String::with_capacity(at.len());
        let mut in_index = false;
        for c in at.chars() {
            match c {
                '[' => {
                    in_index = true;
                    place.push_str("[*]");
                }
                ']' => in_index = false,
                _ if in_index => {}
                _ => place.push(c),
            }
        }
        if self.places.insert(place) {
            self.errors.push(format!("{at}: {what}"));
        }
    }

    fn check(&mut self, target: Target<'d>, v: &Value, at: &str) {
        let (name, s) = match resolve(self.doc, target) {
            Ok(x) => x,
            Err(e) => return self.fail(at, e),
        };
        if let (Some(n), false) = (name, v.is_null()) {
            self.seen.insert(n.to_owned());
        }
        self.schema(s, v, at);
    }

    fn schema(&mut self, s: &'d Schema, v: &Value, at: &str) {
        if v.is_null() {
            return self.null(s, at);
        }
        match &s.schema_kind {
            SchemaKind::Type(Type::String(t)) => self.string(t, v, at),
            SchemaKind::Type(Type::Integer(t)) => self.integer(t, v, at),
            SchemaKind::Type(Type::Number(t)) => self.number(t, v, at),
            SchemaKind::Type(Type::Boolean(t)) => match v.as_bool() {
                None => self.fail(at, format!("expected a boolean, got {}", show(v))),
                Some(b) if !t.enumeration.is_empty() && !t.enumeration.contains(&Some(b)) => {
                    self.fail(at, format!("{b} is not one of the enum values"));
                }
                Some(_) => {}
            },
            SchemaKind::Type(Type::Array(t)) => self.array(t, v, at),
            SchemaKind::Type(Type::Object(_)) | SchemaKind::AllOf { .. } => self.object(s, v, at),
            SchemaKind::OneOf { .. }
            | SchemaKind::AnyOf { .. }
            | SchemaKind::Not { .. }
            | SchemaKind::Any(_) => self.fail(
                at,
                "the schema is outside the subset this validator knows (oneOf, anyOf, not, or no usable type)",
            ),
        }
    }

    fn null(&mut self, s: &Schema, at: &str) {
        if !s.schema_data.nullable {
            return self.fail(at, "is null, but the schema is not nullable");
        }
        // OpenAPI 3.0.3: with an enum, null is allowed only if the enum lists it too.
        let listed = match &s.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                t.enumeration.is_empty() || t.enumeration.contains(&None)
            }
            SchemaKind::Type(Type::Integer(t)) => {
                t.enumeration.is_empty() || t.enumeration.contains(&None)
            }
            SchemaKind::Type(Type::Number(t)) => {
                t.enumeration.is_empty() || t.enumeration.contains(&None)
            }
            SchemaKind::Type(Type::Boolean(t)) => {
                t.enumeration.is_empty() || t.enumeration.contains(&None)
            }
            _ => true,
        };
        if !listed {
            self.fail(at, "is null, but the schema's enum does not list null");
        }
    }

    fn string(&mut self, t: &StringType, v: &Value, at: &str) {
        let Some(s) = v.as_str() else {
            return self.fail(at, format!("expected a string, got {}", show(v)));
        };
        if !t.enumeration.is_empty() && !t.enumeration.iter().any(|e| e.as_deref() == Some(s)) {
            let values: Vec<&str> = t.enumeration.iter().flatten().map(String::as_str).collect();
            self.fail(
                at,
                format!("{s:?} is not one of the enum values {values:?}"),
            );
        }
        match &t.format {
            VariantOrUnknownOrEmpty::Empty => {}
            VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => {
                if OffsetDateTime::parse(s, &Rfc3339).is_err() {
                    self.fail(at, format!("{s:?} is not an RFC 3339 date-time"));
                }
            }
            other => self.fail(at, format!("string format {other:?} is outside the subset")),
        }
        let n = s.chars().count();
        if t.min_length.is_some_and(|m| n < m) {
            self.fail(
                at,
                format!("{s:?} is shorter than minLength {:?}", t.min_length),
            );
        }
        if t.max_length.is_some_and(|m| n > m) {
            self.fail(
                at,
                format!("{s:?} is longer than maxLength {:?}", t.max_length),
            );
        }
        if t.pattern.is_some() {
            self.fail(at, "pattern is outside the subset");
        }
    }

    fn integer(&mut self, t: &IntegerType, v: &Value, at: &str) {
        let Some(n) = v.as_i64() else {
            return self.fail(at, format!("expected an integer, got {}", show(v)));
        };
        match &t.format {
            VariantOrUnknownOrEmpty::Empty
            | VariantOrUnknownOrEmpty::Item(IntegerFormat::Int64) => {}
            VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => {
                if i32::try_from(n).is_err() {
                    self.fail(at, format!("{n} does not fit format int32"));
                }
            }
            VariantOrUnknownOrEmpty::Unknown(f) => {
                self.fail(at, format!("integer format {f:?} is outside the subset"));
            }
        }
        if !t.enumeration.is_empty() && !t.enumeration.contains(&Some(n)) {
            self.fail(at, format!("{n} is not one of the enum values"));
        }
        self.bounds(
            n,
            (t.minimum, t.exclusive_minimum),
            (t.maximum, t.exclusive_maximum),
            at,
        );
        if t.multiple_of.is_some_and(|m| m != 0 && n % m != 0) {
            self.fail(at, format!("{n} is not a multiple of {:?}", t.multiple_of));
        }
    }

    /// `minimum` and `maximum` (each with its `exclusive` flag), for integers and numbers.
    fn bounds<N: PartialOrd + Display>(
        &mut self,
        n: N,
        (min, exclusive_min): (Option<N>, bool),
        (max, exclusive_max): (Option<N>, bool),
        at: &str,
    ) {
        if let Some(m) = min {
            if n < m || (exclusive_min && n == m) {
                self.fail(at, format!("{n} is below the minimum {m}"));
            }
        }
        if let Some(m) = max {
            if n > m || (exclusive_max && n == m) {
                self.fail(at, format!("{n} is above the maximum {m}"));
            }
        }
    }

    fn number(&mut self, t: &NumberType, v: &Value, at: &str) {
        let Some(n) = v.as_f64() else {
            return self.fail(at, format!("expected a number, got {}", show(v)));
        };
        match &t.format {
            VariantOrUnknownOrEmpty::Empty
            | VariantOrUnknownOrEmpty::Item(NumberFormat::Float | NumberFormat::Double) => {}
            VariantOrUnknownOrEmpty::Unknown(f) => {
                self.fail(at, format!("number format {f:?} is outside the subset"));
            }
        }
        if !t.enumeration.is_empty() && !t.enumeration.contains(&Some(n)) {
            self.fail(at, format!("{n} is not one of the enum values"));
        }
        self.bounds(
            n,
            (t.minimum, t.exclusive_minimum),
            (t.maximum, t.exclusive_maximum),
            at,
        );
        if t.multiple_of.is_some() {
            self.fail(at, "multipleOf on a number is outside the subset");
        }
    }

    fn array(&mut self, t: &'d ArrayType, v: &Value, at: &str) {
        let Some(items) = v.as_array() else {
            return self.fail(at, format!("expected an array, got {}", show(v)));
        };
        if t.min_items.is_some_and(|m| items.len() < m) {
            self.fail(at, format!("{} items, fewer than minItems", items.len()));
        }
        if t.max_items.is_some_and(|m| items.len() > m) {
            self.fail(at, format!("{} items, more than maxItems", items.len()));
        }
        if t.unique_items {
            self.fail(at, "uniqueItems is outside the subset");
        }
        let Some(item) = &t.items else {
            return self.fail(at, "the array schema has no items schema");
        };
        for (i, x) in items.iter().enumerate() {
            self.check(item.into(), x, &format!("{at}[{i}]"));
        }
    }

    /// Collect what an object schema declares, through allOf (whose parts must be objects).
    fn shape(&mut self, s: &'d Schema, shape: &mut Shape<'d>, depth: usize) -> Result<(), String> {
        if depth > 8 {
            return Err("allOf nests too deeply (a cycle?)".into());
        }
        match &s.schema_kind {
            SchemaKind::Type(Type::Object(o)) => {
                shape
                    .properties
                    .extend(o.properties.iter().map(|(k, p)| (k.as_str(), p)));
                shape.required.extend(o.required.iter().map(String::as_str));
                match &o.additional_properties {
                    None | Some(AdditionalProperties::Any(false)) => {}
                    Some(AdditionalProperties::Any(true)) => shape.extra = Extra::Any,
                    Some(AdditionalProperties::Schema(r)) => {
                        shape.extra = Extra::Schema((&**r).into());
                    }
                }
                if o.min_properties.is_some() || o.max_properties.is_some() {
                    return Err("minProperties and maxProperties are outside the subset".into());
                }
                Ok(())
            }
            SchemaKind::AllOf { all_of } => {
                for part in all_of {
                    let (name, p) = resolve(self.doc, part.into())?;
                    if let Some(n) = name {
                        self.seen.insert(n.to_owned());
                    }
                    self.shape(p, shape, depth + 1)?;
                }
                Ok(())
            }
            _ => Err("allOf combines a schema that is not an object; outside the subset".into()),
        }
    }

    fn object(&mut self, s: &'d Schema, v: &Value, at: &str) {
        let mut shape = Shape::default();
        if let Err(e) = self.shape(s, &mut shape, 0) {
            return self.fail(at, e);
        }
        let Some(map) = v.as_object() else {
            return self.fail(at, format!("expected an object, got {}", show(v)));
        };
        for r in &shape.required {
            if !map.contains_key(*r) {
                self.fail(at, format!("the required property `{r}` is missing"));
            }
        }
        for (k, x) in map {
            let child = format!("{at}.{k}");
            let declared: Vec<&'d ReferenceOr<Box<Schema>>> = shape
                .properties
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, p)| *p)
                .collect();
            if declared.is_empty() {
                match shape.extra {
                    Extra::Forbidden => self.fail(
                        &child,
                        format!(
                            "the answer has this property ({}), but the schema does not list it \
                             and does not allow additional properties",
                            show(x)
                        ),
                    ),
                    Extra::Any => {}
                    Extra::Schema(t) => self.check(t, x, &child),
                }
            }
            for p in declared {
                self.check(p.into(), x, &child);
            }
        }
    }
}

/// The component schemas a schema refers to, directly or through others.
fn refs_from<'d>(doc: &'d OpenAPI, target: Target<'d>, out: &mut BTreeSet<String>) {
    let s = match target {
        Target::Ref(r) => {
            let Some(n) = r.strip_prefix(SCHEMAS) else {
                return;
            };
            if !out.insert(n.to_owned()) {
                return;
            }
            match resolve(doc, target) {
                Ok((_, s)) => s,
                Err(_) => return,
            }
        }
        Target::Inline(s) => s,
    };
    match &s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => {
            for p in o.properties.values() {
                refs_from(doc, p.into(), out);
            }
            if let Some(AdditionalProperties::Schema(r)) = &o.additional_properties {
                refs_from(doc, (&**r).into(), out);
            }
        }
        SchemaKind::Type(Type::Array(a)) => {
            if let Some(i) = &a.items {
                refs_from(doc, i.into(), out);
            }
        }
        SchemaKind::AllOf { all_of: parts }
        | SchemaKind::OneOf { one_of: parts }
        | SchemaKind::AnyOf { any_of: parts } => {
            for p in parts {
                refs_from(doc, p.into(), out);
            }
        }
        SchemaKind::Not { not } => refs_from(doc, (&**not).into(), out),
        _ => {}
    }
}

/// The operation the document lists for this method (any case) and path template.
fn operation<'d>(doc: &'d OpenAPI, method: &str, template: &str) -> Option<&'d Operation> {
    let item = doc.paths.paths.get(template)?.as_item()?;
    item.iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(method))
        .map(|(_, op)| op)
}

// ---------------------------------------------------------------------------------------
// Calling the live server.
// ---------------------------------------------------------------------------------------

/// One operation of the document, with what the test needs to call it.
struct Op {
    /// Upper case, as sent.
    method: String,
    template: String,
    id: String,
    /// From the route catalogue (the gate's rules).
    access: Access,
    /// The documented success status.
    ok: u16,
    has_body: bool,
    has_query: bool,
}

/// How a request presents a token.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Nothing,
    Bearer(&'a str),
    /// Two different tokens in one request (Authorization and X-API-Key).
    Two(&'a str, &'a str),
    /// An OAuth client's credentials, as HTTP Basic.
    Client(&'a str, &'a str),
}

#[derive(Clone)]
enum Body {
    Nothing,
    Json(Value),
    Raw(&'static str, Vec<u8>),
    /// Form-encoded, as the OAuth endpoints take it.
    Form(Vec<(&'static str, String)>),
}

/// Tokens the calls present.
struct Fixtures {
    /// The admin's, with every scope.
    admin: CreatedToken,
    /// The admin's, with `me:read` only: refused (403) by every scoped route.
    narrow: CreatedToken,
    /// Every scope, but only from 10.0.0.0/8: refused (403) from 127.0.0.1.
    fenced: CreatedToken,
    /// A company token: `/v1/me` answers with a null owner.
    company: CreatedToken,
    /// One request a minute.
    limited: CreatedToken,
    /// An OAuth client (scopes me:read and tokens:read) and its secret.
    client: tessera_core::service::ClientWithSecret,
    /// The admin (ada) signed in: the session-only routes.
    session: String,
}

struct Live<'e> {
    env: &'e Env,
    doc: OpenAPI,
    seen: BTreeSet<String>,
    /// (method, path template) -> the statuses answered.
    answered: BTreeMap<(String, String), BTreeSet<u16>>,
    failures: Vec<String>,
    /// For Postman's {{$timestamp}} in the catalogue's example bodies.
    stamp: u64,
    calls: usize,
}

impl Live<'_> {
    /// The catalogue's example body for this operation (the Postman one), with its variables
    /// filled in; `token` stands for {{apiToken}}.
    fn example(&mut self, op: &Op, token: &str) -> Value {
        let Some(make) = catalog::find(&op.method, &op.template).and_then(|r| r.body) else {
            self.failures.push(format!(
                "{} {}: the document declares a request body but the catalogue has no example",
                op.method, op.template
            ));
            return json!({});
        };
        self.stamp += 1;
        let body = fill(&make(), token, &(1_700_000_000 + self.stamp).to_string());
        if body.to_string().contains("{{") {
            self.failures.push(format!(
                "{} {}: the example body has a variable this test does not fill: {body}",
                op.method, op.template
            ));
        }
        body
    }

    /// Check a body the test sends as valid against the documented request body schema.
    fn check_request(&mut self, op: &Op, body: &Value) {
        let label = format!("{} {} (request body)", op.method, op.template);
        let schema = operation(&self.doc, &op.method, &op.template)
            .and_then(|o| o.request_body.as_ref())
            .and_then(ReferenceOr::as_item)
            .and_then(|rb| rb.content.get("application/json"))
            .and_then(|m| m.schema.as_ref());
        let Some(schema) = schema else {
            self.failures.push(format!(
                "{label}: the document declares no application/json request schema"
            ));
            return;
        };
        let mut v = Validator::new(&self.doc, &mut self.seen);
        v.check(schema.into(), body, "$");
        let errors = v.errors;
        self.failures
            .extend(errors.into_iter().map(|e| format!("{label}: {e}")));
    }

    /// Send one request, expecting `expect`, and check the answer against the document.
    async fn send(
        &mut self,
        op: &Op,
        path: String,
        auth: Auth<'_>,
        body: Body,
        expect: u16,
    ) -> Value {
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).expect("method");
        let mut req = self.env.client.request(method, self.env.url(&path));
        match auth {
            Auth::Nothing => {}
            Auth::Bearer(t) => req = req.bearer_auth(t),
            Auth::Two(a, b) => req = req.bearer_auth(a).header("x-api-key", b),
            Auth::Client(id, secret) => req = req.basic_auth(id, Some(secret)),
        }
        req = match body {
            Body::Nothing => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(content_type, bytes) => req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes),
            Body::Form(fields) => {
                let mut enc = form_urlencoded::Serializer::new(String::new());
                for (k, v) in &fields {
                    enc.append_pair(k, v);
                }
                req.header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(enc.finish())
            }
        };
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = res.text().await.expect("answer body");
        self.calls += 1;
        self.answered
            .entry((op.method.clone(), op.template.clone()))
            .or_default()
            .insert(status);

        let route = format!("{} {} [{}] answered {status}", op.method, path, op.template);
        let failures = &mut self.failures;
        if status != expect {
            failures.push(format!(
                "{route}: the test meant to provoke {expect}: {text}"
            ));
        }
        if content_type.starts_with("text/csv") {
            // A file: the document must say so for this status, and it must read as CSV
            // with the documented header.
            let declared = operation(&self.doc, &op.method, &op.template)
                .and_then(|o| {
                    o.responses
                        .responses
                        .get(&openapiv3::StatusCode::Code(status))
                })
                .and_then(|r| r.as_item())
                .is_some_and(|r| r.content.contains_key("text/csv"));
            if !declared {
                failures.push(format!(
                    "{route}: answered text/csv, which the document does not declare"
                ));
            }
            if !text.starts_with("id,time,actor,action,target,details\n") {
                failures.push(format!("{route}: the CSV lacks its header line: {text}"));
            }
            return Value::String(text);
        }
        if status == 204 {
            // No content: the document must say none for this status.
            let documented = operation(&self.doc, &op.method, &op.template)
                .and_then(|o| o.responses.responses.get(&openapiv3::StatusCode::Code(204)))
                .and_then(|r| r.as_item());
            match documented {
                Some(r) if r.content.is_empty() => {}
                Some(_) => failures.push(format!("{route}: 204 is documented with content")),
                None => failures.push(format!("{route}: 204 is not documented")),
            }
            if !text.is_empty() {
                failures.push(format!("{route}: a 204 with a body: {text}"));
            }
            return Value::Null;
        }
        let answer: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{route}: the answer is not JSON ({e}): {text}"));
                return Value::Null;
            }
        };
        if !content_type.starts_with("application/json") {
            failures.push(format!(
                "{route}: Content-Type is {content_type:?}, not application/json"
            ));
        }
        let Some(o) = operation(&self.doc, &op.method, &op.template) else {
            failures.push(format!(
                "{route}: the document does not list this operation"
            ));
            return answer;
        };
        let responses = &o.responses.responses;
        let documented = responses
            .get(&openapiv3::StatusCode::Code(status))
            .or_else(|| responses.get(&openapiv3::StatusCode::Range(status / 100)))
            .or(o.responses.default.as_ref());
        let Some(documented) = documented else {
            let listed: Vec<String> = responses.keys().map(ToString::to_string).collect();
            failures.push(format!(
                "{route}: status {status} is not documented for this operation (it documents {}); the answer: {text}",
                listed.join(", ")
            ));
            return answer;
        };
        let schema = documented
            .as_item()
            .and_then(|r| r.content.get("application/json"))
            .and_then(|m| m.schema.as_ref());
        let Some(schema) = schema else {
            failures.push(format!(
                "{route}: the document declares no application/json schema for status {status}"
            ));
            return answer;
        };
        let mut v = Validator::new(&self.doc, &mut self.seen);
        v.check(schema.into(), &answer, "$");
        let errors = v.errors;
        self.failures
            .extend(errors.into_iter().map(|e| format!("{route}: {e}")));
        answer
    }

    /// [`Live::send`] to the route itself as the admin's signed-in session.
    async fn send_session(&mut self, op: &Op, fx: &Fixtures, body: Body, expect: u16) -> Value {
        self.send(
            op,
            op.template.clone(),
            Auth::Bearer(&fx.session),
            body,
            expect,
        )
        .await
    }

    /// A GET of `op` with the query `query` as `admin`, refused as bad input (400); its body.
    async fn refused_query(&mut self, op: &Op, query: &str, admin: &str) -> Value {
        self.send(
            op,
            format!("{}?{query}", op.template),
            Auth::Bearer(admin),
            Body::Nothing,
            400,
        )
        .await
    }

    async fn send_admin(&mut self, op: &Op, path: String, fx: &Fixtures) -> Value {
        self.send(
            op,
            path,
            Auth::Bearer(fx.admin.token.expose()),
            Body::Nothing,
            op.ok,
        )
        .await
    }

    /// The call (or calls) that succeed, with the ids and bodies they need made first.
    async fn succeed(&mut self, op: &Op, fx: &Fixtures) {
        let env = self.env;
        let admin = fx.admin.token.expose();
        let admin_id = fx.admin.info.id.0.to_string();
        let at = |id: &str| op.template.replace("{id}", id);
        match op.id.as_str() {
            "health" | "openapi" => {
                self.send(op, op.template.clone(), Auth::Nothing, Body::Nothing, op.ok)
                    .await;
            }
            "me" => {
                self.send_admin(op, op.template.clone(), fx).await;
                // A company token: the owner is null.
                let company = fx.company.token.expose();
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(company),
                    Body::Nothing,
                    op.ok,
                )
                .await;
            }
            "verify" => {
                let body = self.example(op, fx.narrow.token.expose());
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["active"], true, "{v}");
                // A token that is not one: inactive, with nulls.
                let body = json!({"token": "tsr_p_not_a_token"});
                self.check_request(op, &body);
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(admin),
                    Body::Json(body),
                    op.ok,
                )
                .await;
            }
            "explain" => {
                let body = self.example(op, fx.narrow.token.expose());
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert!(v["checks"].as_array().is_some_and(|c| c.len() > 8), "{v}");
                // A string that is not a token: its format check alone.
                let body = json!({"token": "tsr_p_not_a_token", "at": "2030-01-01T00:00:00Z"});
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["outcome"], "malformed", "{v}");
                // A token the caller manages, by id.
                let body = json!({"id": fx.narrow.info.id.0, "scopes": ["me:read"]});
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["outcome"], "accepted", "{v}");
            }
            "listTokens" | "listUsers" | "audit" => {
                let v = self.send_admin(op, op.template.clone(), fx).await;
                let items = v["items"].as_array().map_or(0, Vec::len);
                assert!(items > 0, "{} lists nothing to check: {v}", op.template);
                if op.id == "listUsers" {
                    // Ada holds the fixtures' tokens.
                    let ada = v["items"]
                        .as_array()
                        .and_then(|a| a.iter().find(|u| u["email"] == "ada@example.com"))
                        .cloned()
                        .unwrap_or_default();
                    assert!(ada["live_tokens"].as_i64().is_some_and(|n| n >= 3), "{v}");
                }
                if op.id == "audit" {
                    // A time window: everything so far is before the far future, nothing after.
                    let v = self
                        .send_admin(
                            op,
                            format!(
                                "{}?since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z",
                                op.template
                            ),
                            fx,
                        )
                        .await;
                    assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
                    let v = self
                        .send_admin(
                            op,
                            format!("{}?since=2100-01-01T00:00:00Z", op.template),
                            fx,
                        )
                        .await;
                    assert_eq!(v["items"], json!([]), "{v}");
                    let v = self.refused_query(op, "until=yesterday", admin).await;
                    assert_eq!(v["field"], "until", "{v}");
                }
                if op.id == "listTokens" {
                    // The app's table: sorted by name, descending, a page by offset, and the
                    // total the filters match.
                    let v = self
                        .send_admin(
                            op,
                            format!(
                                "{}?sort=name&descending=true&offset=1&limit=2&total=true",
                                op.template
                            ),
                            fx,
                        )
                        .await;
                    let total = v["total"].as_u64().unwrap_or(0);
                    let names: Vec<&str> = v["items"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
                        .unwrap_or_default();
                    assert!(total >= 3 && names.len() == 2, "{v}");
                    assert!(names[0] >= names[1], "{v}");
                    assert!(v["next_cursor"].is_null(), "{v}");
                    let v = self.refused_query(op, "sort=name&cursor=1", admin).await;
                    assert_eq!(v["field"], "cursor", "{v}");
                    self.refused_query(op, "sort=colour", admin).await;
                }
            }
            "createToken" | "createUser" => {
                let body = self.example(op, admin);
                self.check_request(op, &body);
                let b = Body::Json(body);
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(admin),
                    b.clone(),
                    op.ok,
                )
                .await;
                // The same name (or e-mail) again.
                self.send(op, op.template.clone(), Auth::Bearer(admin), b, 409)
                    .await;
            }
            "getToken" => {
                self.send_admin(op, at(&admin_id), fx).await;
            }
            "updateToken" => {
                let t = target(env, &op.id).await;
                let body = self.example(op, admin);
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        at(&t.info.id.0.to_string()),
                        Auth::Bearer(admin),
                        Body::Json(body.clone()),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["note"], body["note"], "{v}");
                assert_eq!(v["alert_new_sources"], body["alert_new_sources"], "{v}");
            }
            "revokeToken" | "deactivateToken" | "deleteToken" => {
                let t = target(env, &op.id).await;
                self.send_admin(op, at(&t.info.id.0.to_string()), fx).await;
            }
            "activateToken" => {
                let t = target(env, &op.id).await;
                env.tessera
                    .set_token_status(&Actor::Operator, t.info.id, StatusAction::Deactivate)
                    .await
                    .expect("deactivate");
                self.send_admin(op, at(&t.info.id.0.to_string()), fx).await;
            }
            "rotateToken" => {
                let t = target(env, &op.id).await;
                let body = self.example(op, admin);
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        at(&t.info.id.0.to_string()),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["rotated"], t.info.id.0, "{v}");
                assert_eq!(v["name"], t.info.name.as_str(), "{v}");
            }
            "tokenRotation" | "finishRotation" => {
                let t = target(env, &op.id).await;
                env.tessera
                    .rotate_token(
                        &Actor::Operator,
                        t.info.id,
                        tessera_core::service::RotateRequest::parse(None, None).expect("defaults"),
                    )
                    .await
                    .expect("rotate");
                if op.id == "tokenRotation" {
                    // The old token used after the rotation: a source to list.
                    env.use_once(&t).await;
                }
                let v = self.send_admin(op, at(&t.info.id.0.to_string()), fx).await;
                if op.id == "tokenRotation" {
                    assert_eq!(v["sources"][0]["uses"], 1, "{v}");
                    assert_eq!(v["token"]["status"], "rotating", "{v}");
                } else {
                    assert_eq!(v["status"], "revoked", "{v}");
                }
            }
            "bulkTokenStatus" => {
                let t = target(env, &op.id).await;
                let body = json!({"ids": [t.info.id.0, 999_999], "action": "deactivate"});
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["done"], json!([t.info.id.0]), "{v}");
                assert_eq!(v["failed"][0]["error"], "not_found", "{v}");
            }
            "auditExport" => {
                let v = self
                    .send_admin(op, format!("{}?action=token.create", op.template), fx)
                    .await;
                let text = v.as_str().unwrap_or("");
                let rows: Vec<&str> = text.lines().skip(1).collect();
                assert!(!rows.is_empty(), "{text}");
                assert!(rows.iter().all(|r| r.contains(",token.create,")), "{text}");
            }
            "policy" => {
                let v = self.send_admin(op, op.template.clone(), fx).await;
                assert!(
                    v["max_lifetime_days"].as_u64().is_some_and(|d| d > 0),
                    "{v}"
                );
            }
            "scopes" => {
                let v = self.send_admin(op, op.template.clone(), fx).await;
                let names: Vec<&str> = v["items"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
                    .unwrap_or_default();
                assert!(
                    names.contains(&"me:read") && names.contains(&"users:write"),
                    "{v}"
                );
            }
            "dashboard" => {
                // A honeytoken presented, and a company token used from a second client, so
                // both alert lists have an entry to check.
                let mut honey = new_token(TokenKind::Company, None, "decoy", &["me:read"]);
                honey.honeytoken = true;
                let honey = env.token_with(honey).await;
                let seen = tessera_core::service::HoneytokenUse {
                    ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
                    user_agent: Some("thief/1"),
                    method: "GET",
                    path: "/v1/me",
                };
                env.tessera
                    .honeytoken_used(honey.info.id, seen)
                    .await
                    .expect("alert");
                let feed = env
                    .token_with(new_token(TokenKind::Company, None, "feed", &["me:read"]))
                    .await;
                for agent in ["feeder/1", "other-client/2"] {
                    let used = tessera_core::store::usage::UseEvent {
                        token_id: feed.info.id,
                        at: OffsetDateTime::now_utc(),
                        ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
                        user_agent: Some(agent.into()),
                        method: "GET".into(),
                        path: "/v1/me".into(),
                        status: 200,
                        outcome: "accepted",
                        via: "bearer",
                    };
                    env.tessera.record_uses(&[used]).await.expect("record");
                }
                let v = self.send_admin(op, op.template.clone(), fx).await;
                assert!(v["active"].as_i64().is_some_and(|n| n > 0), "{v}");
                assert_eq!(v["honeytoken_alerts"][0]["client"], "thief/1", "{v}");
                assert_eq!(v["new_sources"][0]["client"], "other-client", "{v}");
            }
            "tokenSources" => {
                // A use of the admin token, flushed: its network and client are known.
                env.use_once(&fx.admin).await;
                let v = self.send_admin(op, at(&admin_id), fx).await;
                let kinds: Vec<&str> = v["items"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s["kind"].as_str()).collect())
                    .unwrap_or_default();
                assert!(
                    kinds.contains(&"network") && kinds.contains(&"client"),
                    "{v}"
                );
            }
            "tokenUsage" => {
                // A use of the admin token, then wait for the usage writer to flush it.
                env.use_once(&fx.admin).await;
                let v = self.send_admin(op, at(&admin_id), fx).await;
                assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
            }
            "deactivateUser" => {
                let u = env.add_user("leaving@example.com", Role::User).await;
                self.send_admin(op, at(&u.id.0.to_string()), fx).await;
            }
            "reactivateUser" => {
                let u = env.add_user("returning@example.com", Role::User).await;
                env.tessera
                    .deactivate_user(&Actor::Operator, &u.email)
                    .await
                    .expect("deactivate");
                let v = self.send_admin(op, at(&u.id.0.to_string()), fx).await;
                assert_eq!(v["active"], true, "{v}");
            }
            "rolePreview" | "deactivationPreview" => {
                // An admin holding a token with an admin scope.
                let email = format!("preview-{}@example.com", op.id.to_lowercase());
                let u = env.add_user(&email, Role::Admin).await;
                env.token_with(new_token(
                    TokenKind::Personal,
                    Some(&email),
                    "admin work",
                    &["users:read"],
                ))
                .await;
                let path = at(&u.id.0.to_string());
                if op.id == "rolePreview" {
                    let v = self.send_admin(op, format!("{path}?role=user"), fx).await;
                    assert_eq!(v["scopes_lost"], json!(["users:read"]), "{v}");
                } else {
                    let v = self.send_admin(op, path, fx).await;
                    assert_eq!(v["tokens_to_revoke"], 1, "{v}");
                }
            }
            "tokenReport" => {
                env.use_once(&fx.admin).await;
                let v = self
                    .send_admin(op, format!("{}?days=7", at(&admin_id)), fx)
                    .await;
                assert_eq!(v["series"].as_array().map(Vec::len), Some(7), "{v}");
                for list in ["recent", "clients", "sources"] {
                    assert!(
                        v[list].as_array().is_some_and(|a| !a.is_empty()),
                        "{list}: {v}"
                    );
                }
            }
            "changes" => {
                // A change moves it.
                let before = self.send_admin(op, op.template.clone(), fx).await["version"]
                    .as_i64()
                    .unwrap_or(-1);
                env.add_user("mover@example.com", Role::User).await;
                let after = self.send_admin(op, op.template.clone(), fx).await["version"]
                    .as_i64()
                    .unwrap_or(-1);
                assert!(before >= 0 && after > before, "{before} -> {after}");
            }
            "takeNotices" => {
                // A token of hers that expires in three days: announced once.
                let mut soon = new_token(
                    TokenKind::Personal,
                    Some("ada@example.com"),
                    "expires-soon",
                    &["me:read"],
                );
                soon.expiry = ExpiryRequest::parse_in("3d").expect("3d");
                let soon = env.token_with(soon).await;
                let v = self.send_session(op, fx, Body::Nothing, op.ok).await;
                let expiring: Vec<i64> = v["expiring"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|e| e["token"]["id"].as_i64()).collect())
                    .unwrap_or_default();
                assert!(expiring.contains(&soon.info.id.0), "{v}");
                let v = self.send_session(op, fx, Body::Nothing, op.ok).await;
                assert_eq!(v["expiring"], json!([]), "announced once: {v}");
            }
            "identifyLeaks" => {
                // A live token the admin manages, one never issued here, and a broken one.
                let unknown = tessera_core::token::TokenSecret::generate(TokenKind::Personal);
                let body =
                    json!({"tokens": [fx.narrow.token.expose(), unknown.expose(), "tsr_p_broken"]});
                self.check_request(op, &body);
                let v = self.send_session(op, fx, Body::Json(body), op.ok).await;
                let status: Vec<&str> = v["findings"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|f| f["status"].as_str()).collect())
                    .unwrap_or_default();
                assert_eq!(status, ["live", "unknown", "malformed"], "{v}");
                assert_eq!(v["findings"][0]["token"]["id"], fx.narrow.info.id.0, "{v}");
                assert!(!v.to_string().contains(fx.narrow.token.expose()), "{v}");
            }
            "revokeLeaked" => {
                let t = target(env, "leaked").await;
                let body = json!({"id": t.info.id.0, "place": "deploy/.env:3"});
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["status"], "revoked", "{v}");
            }
            "acknowledgeHoneytokenAlerts" => {
                let body = self.example(op, admin);
                self.check_request(op, &body);
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(admin),
                    Body::Json(body),
                    op.ok,
                )
                .await;
            }
            "setUserRole" => {
                // An admin holding a token with an admin scope, so the answer lists what the
                // new role takes away.
                let u = env.add_user("demoted@example.com", Role::Admin).await;
                env.token_with(new_token(
                    TokenKind::Personal,
                    Some("demoted@example.com"),
                    "admin work",
                    &["users:read"],
                ))
                .await;
                // The example makes an admin (the Postman run's); this demotes one.
                let body = json!({"role": "user"});
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        at(&u.email.to_string()),
                        Auth::Bearer(admin),
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["scopes_lost"], json!(["users:read"]), "{v}");
            }
            "listClients" => {
                let v = self.send_admin(op, op.template.clone(), fx).await;
                assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
            }
            "createClient" => {
                let body = self.example(op, admin);
                self.check_request(op, &body);
                let b = Body::Json(body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Bearer(admin),
                        b.clone(),
                        op.ok,
                    )
                    .await;
                assert!(
                    v["client_secret"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("tsr_s_")),
                    "{v}"
                );
                // Registered through an expiring token, the client ends with it.
                assert!(v["expires_at"].is_string(), "{v}");
                self.send(op, op.template.clone(), Auth::Bearer(admin), b, 409)
                    .await;
            }
            "getClient" => {
                let id = fx.client.client.id.to_string();
                // An access token issued and used, so the figures are not empty.
                let c = &fx.client;
                let row = env
                    .tessera
                    .authenticate_client(&c.client.client_id, c.client_secret.expose())
                    .await
                    .expect("auth")
                    .expect("ok");
                let t = env
                    .tessera
                    .issue_access_token(&row, None, None)
                    .await
                    .expect("issue")
                    .expect("granted");
                let me = env
                    .client
                    .get(env.url("/v1/me"))
                    .bearer_auth(t.token.expose())
                    .send()
                    .await
                    .expect("me");
                assert_eq!(me.status(), reqwest::StatusCode::OK);
                let v = self.send_admin(op, at(&id), fx).await;
                assert!(
                    v["tokens_issued_24h"].as_i64().is_some_and(|n| n >= 1),
                    "{v}"
                );
            }
            "disableClient" | "deleteClient" | "rotateClientSecret" => {
                let c = client_target(env, &op.id).await;
                let v = self.send_admin(op, at(&c.client.id.to_string()), fx).await;
                if op.id == "rotateClientSecret" {
                    assert_eq!(v["secrets"].as_array().map(Vec::len), Some(2), "{v}");
                }
            }
            "enableClient" => {
                let c = client_target(env, &op.id).await;
                env.tessera
                    .set_client_status(
                        &Actor::Operator,
                        c.client.id,
                        tessera_core::service::ClientAction::Disable,
                    )
                    .await
                    .expect("disable");
                let v = self.send_admin(op, at(&c.client.id.to_string()), fx).await;
                assert_eq!(v["status"], "active", "{v}");
            }
            "retireClientSecret" => {
                let c = client_target(env, &op.id).await;
                let r = env
                    .tessera
                    .rotate_client_secret(&Actor::Operator, c.client.id)
                    .await
                    .expect("rotate");
                let path = op
                    .template
                    .replace("{id}", &c.client.id.to_string())
                    .replace("{secret}", &r.client.secrets[1].id.to_string());
                let v = self.send_admin(op, path, fx).await;
                assert_eq!(v["secrets"].as_array().map(Vec::len), Some(1), "{v}");
            }
            "oauthMetadata" => {
                let v = self
                    .send(op, op.template.clone(), Auth::Nothing, Body::Nothing, op.ok)
                    .await;
                assert!(
                    v["token_endpoint"]
                        .as_str()
                        .is_some_and(|u| u.ends_with("/oauth/token")),
                    "{v}"
                );
            }
            "oauthToken" => {
                let c = &fx.client;
                let (id, secret) = (c.client.client_id.as_str(), c.client_secret.expose());
                let grant = vec![("grant_type", "client_credentials".to_owned())];
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Client(id, secret),
                        Body::Form(grant),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["scope"], "me:read tokens:read", "{v}");
                // client_secret_post, narrowed.
                let post = vec![
                    ("grant_type", "client_credentials".to_owned()),
                    ("scope", "me:read".to_owned()),
                    ("client_id", id.to_owned()),
                    ("client_secret", secret.to_owned()),
                ];
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Nothing,
                        Body::Form(post),
                        op.ok,
                    )
                    .await;
                assert_eq!(v["scope"], "me:read", "{v}");
            }
            "oauthIntrospect" | "oauthRevoke" => {
                let c = &fx.client;
                let (id, secret) = (c.client.client_id.as_str(), c.client_secret.expose());
                let row = env
                    .tessera
                    .authenticate_client(id, secret)
                    .await
                    .expect("auth")
                    .expect("ok");
                let t = env
                    .tessera
                    .issue_access_token(&row, None, None)
                    .await
                    .expect("issue")
                    .expect("granted");
                let form = vec![("token", t.token.expose().to_owned())];
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Client(id, secret),
                        Body::Form(form.clone()),
                        op.ok,
                    )
                    .await;
                if op.id == "oauthIntrospect" {
                    assert_eq!(v["active"], true, "{v}");
                    assert_eq!(v["client_id"], id, "{v}");
                    // A verifier's token sees it too; an unknown token is inactive, alone.
                    let v = self
                        .send(
                            op,
                            op.template.clone(),
                            Auth::Bearer(admin),
                            Body::Form(form),
                            op.ok,
                        )
                        .await;
                    assert_eq!(v["token_type"], "Bearer", "{v}");
                    let v = self
                        .send(
                            op,
                            op.template.clone(),
                            Auth::Client(id, secret),
                            Body::Form(vec![("token", "tsr_a_nothing".to_owned())]),
                            op.ok,
                        )
                        .await;
                    assert_eq!(v, json!({"active": false}));
                } else {
                    let me = env
                        .client
                        .get(env.url("/v1/me"))
                        .bearer_auth(t.token.expose())
                        .send()
                        .await
                        .expect("me");
                    assert_eq!(me.status(), reqwest::StatusCode::UNAUTHORIZED);
                }
            }
            "signIn" => {
                let body =
                    json!({"email": "ada@example.com", "password": crate::common::ADMIN_PASSWORD});
                self.check_request(op, &body);
                let v = self
                    .send(
                        op,
                        op.template.clone(),
                        Auth::Nothing,
                        Body::Json(body),
                        op.ok,
                    )
                    .await;
                assert!(
                    v["session"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("tsr_w_")),
                    "{v}"
                );
                // A wrong password, and a deactivated person's right one.
                let wrong = json!({"email": "ada@example.com", "password": "not her passphrase"});
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Nothing,
                    Body::Json(wrong),
                    401,
                )
                .await;
                let gone = env.add_user("gone@example.com", Role::User).await;
                env.tessera
                    .deactivate_user(&Actor::Operator, &gone.email)
                    .await
                    .expect("deactivate");
                let right =
                    json!({"email": "gone@example.com", "password": crate::common::USER_PASSWORD});
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Nothing,
                    Body::Json(right),
                    403,
                )
                .await;
                let bad = json!({"email": "not an address", "password": "whatever it is"});
                self.send(op, op.template.clone(), Auth::Nothing, Body::Json(bad), 400)
                    .await;
            }
            "currentSession" | "userToken" => {
                let v = self.send_session(op, fx, Body::Nothing, op.ok).await;
                if op.id == "currentSession" {
                    assert_eq!(v["user"]["email"], "ada@example.com", "{v}");
                }
            }
            "signOut" => {
                let s = env
                    .sign_in("ada@example.com", crate::common::ADMIN_PASSWORD)
                    .await;
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(&s),
                    Body::Nothing,
                    op.ok,
                )
                .await;
                // Gone: the next request is refused.
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(&s),
                    Body::Nothing,
                    401,
                )
                .await;
            }
            "updateProfile" | "regenerateUserToken" | "addScope" => {
                let body = self.example(op, admin);
                self.check_request(op, &body);
                self.send_session(op, fx, Body::Json(body.clone()), op.ok)
                    .await;
                if op.id == "addScope" {
                    self.send_session(op, fx, Body::Json(body), 409).await;
                }
            }
            "changePassword" => {
                // Her own password, kept the same.
                let pw = crate::common::ADMIN_PASSWORD;
                let body = json!({"current_password": pw, "new_password": pw});
                self.check_request(op, &body);
                self.send_session(op, fx, Body::Json(body), op.ok).await;
            }
            "setPolicy" => {
                let body = self.example(op, admin);
                self.check_request(op, &body);
                let v = self.send_session(op, fx, Body::Json(body), op.ok).await;
                assert!(v["max_lifetime_days"].as_u64().is_some(), "{v}");
                // An ordinary person's session may not.
                let uli = env.add_user("policy-user@example.com", Role::User).await;
                let s = env
                    .sign_in(uli.email.as_str(), crate::common::USER_PASSWORD)
                    .await;
                let body = self.example(op, admin);
                self.send(
                    op,
                    op.template.clone(),
                    Auth::Bearer(&s),
                    Body::Json(body),
                    403,
                )
                .await;
            }
            _ => self.failures.push(format!(
                "{} {} ({}): the document lists this operation, but openapi_live.rs has no call \
                 for it; add one to `Live::succeed`",
                op.method, op.template, op.id
            )),
        }
    }

    /// The refusals a guarded operation documents: 400, 401, 403, 404, 409 (in
    /// [`Live::succeed`]), 413, 415.
    async fn refuse(&mut self, op: &Op, fx: &Fixtures) {
        // Who may call it: the admin's token, or on a session-only route her session.
        let admin = if op.access == Access::Session {
            fx.session.as_str()
        } else {
            fx.admin.token.expose()
        };
        let path = op.template.replace("{id}", "1").replace("{secret}", "1");
        let body = if op.has_body {
            Body::Json(self.example(op, admin))
        } else {
            Body::Nothing
        };
        // 401: no token, a malformed one.
        self.send(op, path.clone(), Auth::Nothing, body.clone(), 401)
            .await;
        let malformed = Auth::Bearer("tsr_p_not_a_real_token");
        self.send(op, path.clone(), malformed, body.clone(), 401)
            .await;
        // 403: a token without the route's scope; where any token will do, one used from
        // outside its networks.
        let refused = match op.access {
            Access::Scope(_) => &fx.narrow,
            _ => &fx.fenced,
        };
        let refused = Auth::Bearer(refused.token.expose());
        self.send(op, path.clone(), refused, body.clone(), 403)
            .await;
        // 400: two different tokens in one request.
        let two = Auth::Two(fx.admin.token.expose(), fx.narrow.token.expose());
        self.send(op, path.clone(), two, body.clone(), 400).await;
        if op.template.contains("{id}") {
            // 404: an id nobody has; 400: an id that is not one.
            // With the query parameters the document requires.
            let required = if op.id == "rolePreview" {
                "?role=user"
            } else {
                ""
            };
            let missing = op
                .template
                .replace("{id}", "999999")
                .replace("{secret}", "1")
                + required;
            self.send(op, missing, Auth::Bearer(admin), body.clone(), 404)
                .await;
            let bad = op
                .template
                .replace("{id}", "not-an-id")
                .replace("{secret}", "1")
                + required;
            self.send(op, bad, Auth::Bearer(admin), body.clone(), 400)
                .await;
        }
        if op.has_query {
            let bad = format!("{path}?limit=0");
            self.send(op, bad, Auth::Bearer(admin), body.clone(), 400)
                .await;
        }
        if op.has_body {
            let unknown = Body::Json(json!({"unexpected": true}));
            self.send(op, path.clone(), Auth::Bearer(admin), unknown, 400)
                .await;
            let text = Body::Raw("text/plain", b"{}".to_vec());
            self.send(op, path.clone(), Auth::Bearer(admin), text, 415)
                .await;
            let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024));
            let big = Body::Raw("application/json", big.into_bytes());
            self.send(op, path, Auth::Bearer(admin), big, 413).await;
        }
    }
}

impl Live<'_> {
    /// The refusals an OAuth endpoint documents, in RFC 6749 section 5.2's shape.
    async fn refuse_oauth(&mut self, op: &Op, fx: &Fixtures) {
        let c = &fx.client;
        let (id, secret) = (c.client.client_id.as_str(), c.client_secret.expose());
        let path = op.template.clone();
        let grant = || {
            vec![
                ("grant_type", "client_credentials".to_owned()),
                ("token", "tsr_a_x".to_owned()),
            ]
        };
        // 400: not form-encoded; the same parameter twice.
        self.send(
            op,
            path.clone(),
            Auth::Client(id, secret),
            Body::Json(json!({})),
            400,
        )
        .await;
        let twice = Body::Raw(
            "application/x-www-form-urlencoded",
            b"token=a&token=b&grant_type=client_credentials".to_vec(),
        );
        self.send(op, path.clone(), Auth::Client(id, secret), twice, 400)
            .await;
        // 401: no client authentication; a wrong secret.
        self.send(op, path.clone(), Auth::Nothing, Body::Form(grant()), 401)
            .await;
        let wrong = tessera_core::token::ClientSecret::generate();
        self.send(
            op,
            path.clone(),
            Auth::Client(id, wrong.expose()),
            Body::Form(grant()),
            401,
        )
        .await;
        if op.id == "oauthIntrospect" {
            // A caller presenting a token instead: RFC 6750's answers.
            let form = || Body::Form(vec![("token", "tsr_a_x".to_owned())]);
            let v = self
                .send(
                    op,
                    path.clone(),
                    Auth::Bearer(fx.narrow.token.expose()),
                    form(),
                    403,
                )
                .await;
            assert_eq!(v["error"], "insufficient_scope", "{v}");
            let v = self
                .send(
                    op,
                    path.clone(),
                    Auth::Bearer("tsr_p_not_a_real_token"),
                    form(),
                    401,
                )
                .await;
            assert_eq!(v["error"], "invalid_token", "{v}");
        }
        if op.id == "oauthToken" {
            let unsupported = vec![("grant_type", "password".to_owned())];
            let v = self
                .send(
                    op,
                    path.clone(),
                    Auth::Client(id, secret),
                    Body::Form(unsupported),
                    400,
                )
                .await;
            assert_eq!(v["error"], "unsupported_grant_type", "{v}");
            let wider = vec![
                ("grant_type", "client_credentials".to_owned()),
                ("scope", "tokens:write".to_owned()),
            ];
            let v = self
                .send(
                    op,
                    path.clone(),
                    Auth::Client(id, secret),
                    Body::Form(wider),
                    400,
                )
                .await;
            assert_eq!(v["error"], "invalid_scope", "{v}");
        }
        if op.id != "oauthToken" {
            return;
        }
        // 429: a client that has spent its failures is refused even with the right secret
        // (once: the address's own allowance is shared by every call here).
        let blocked = client_target(self.env, &format!("{}-blocked", op.id)).await;
        let bid = blocked.client.client_id.clone();
        for _ in 0..tessera_api::ratelimit::RateLimits::CLIENT_FAILURES {
            self.send(
                op,
                path.clone(),
                Auth::Client(&bid, wrong.expose()),
                Body::Form(grant()),
                401,
            )
            .await;
        }
        let v = self
            .send(
                op,
                path,
                Auth::Client(&bid, blocked.client_secret.expose()),
                Body::Form(grant()),
                429,
            )
            .await;
        assert_eq!(v["error"], "invalid_client", "{v}");
    }
}

/// Postman's variables in a catalogue example body, filled in.
fn fill(v: &Value, token: &str, stamp: &str) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.replace("{{apiToken}}", token)
                .replace("{{$timestamp}}", stamp),
        ),
        Value::Array(a) => a.iter().map(|x| fill(x, token, stamp)).collect(),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| (k.clone(), fill(x, token, stamp)))
            .collect(),
        other => other.clone(),
    }
}

/// The document's operations, with what the catalogue says of each.
fn operations(doc: &OpenAPI, failures: &mut Vec<String>) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in &doc.paths.paths {
        if item.as_item().is_none() {
            failures.push(format!("{path}: a $ref path item is outside the subset"));
        }
    }
    for (template, method, o) in doc.operations() {
        let method = method.to_ascii_uppercase();
        let label = format!("{method} {template}");
        let Some(route) = catalog::find(&method, template) else {
            failures.push(format!(
                "{label}: in the document but not in the route catalogue"
            ));
            continue;
        };
        let ok = o.responses.responses.keys().find_map(|k| match k {
            openapiv3::StatusCode::Code(c) if (200..300).contains(c) => Some(*c),
            _ => None,
        });
        let Some(ok) = ok else {
            failures.push(format!("{label}: the document declares no success status"));
            continue;
        };
        ops.push(Op {
            method,
            template: template.to_owned(),
            id: o.operation_id.clone().unwrap_or_default(),
            access: route.access,
            ok,
            has_body: o.request_body.is_some(),
            has_query: o
                .parameters
                .iter()
                .any(|p| matches!(p, ReferenceOr::Item(Parameter::Query { .. }))),
        });
    }
    ops
}

/// A token for a status change or delete to act on. It lives a day: a token acting through
/// the API may not activate one that outlives it, and the admin token lives the default 90
/// days from a second that may be earlier.
async fn target(env: &Env, name: &str) -> CreatedToken {
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        &format!("openapi-{name}"),
        &["me:read"],
    );
    req.expiry = ExpiryRequest::parse_in("1d").expect("1d");
    env.token_with(req).await
}

async fn fixtures(env: &Env) -> Fixtures {
    let mut fenced = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "openapi-fenced",
        ALL_SCOPES,
    );
    fenced.networks = Networks::parse(&["10.0.0.0/8"]).expect("networks");
    let mut limited = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "openapi-limited",
        &["me:read"],
    );
    limited.rate_limit = Some(1);
    Fixtures {
        admin: env.token("openapi-admin", ALL_SCOPES).await,
        narrow: env.token("openapi-narrow", &["me:read"]).await,
        fenced: env.token_with(fenced).await,
        company: env
            .token_with(new_token(
                TokenKind::Company,
                None,
                "openapi-company",
                &["me:read"],
            ))
            .await,
        limited: env.token_with(limited).await,
        client: env
            .tessera
            .create_client(
                &Actor::Operator,
                tessera_core::service::NewClient {
                    name: "openapi-client".into(),
                    description: "made by a test".into(),
                    scopes: vec![
                        "me:read".parse().expect("s"),
                        "tokens:read".parse().expect("s"),
                    ],
                    ..Default::default()
                },
            )
            .await
            .expect("client"),
        session: env
            .sign_in("ada@example.com", crate::common::ADMIN_PASSWORD)
            .await,
    }
}

/// A client for a status change, a secret or a delete to act on; `name` tells them apart.
/// Registered through a company token that expires in an hour, so it ends before the admin
/// token does and that token may bring it back or give it a secret.
async fn client_target(env: &Env, name: &str) -> tessera_core::service::ClientWithSecret {
    let mut maker = new_token(
        TokenKind::Company,
        None,
        &format!("maker-{name}"),
        &["me:read"],
    );
    maker.expiry = ExpiryRequest::parse_in("1h").expect("1h");
    let maker = env.token_with(maker).await;
    let d = env
        .tessera
        .verify(maker.token.expose(), &[], None, OffsetDateTime::now_utc())
        .await
        .expect("verify");
    let via = Actor::via_token(&d.token.expect("maker"), None);
    env.tessera
        .create_client(
            &via,
            tessera_core::service::NewClient {
                name: format!("openapi-{name}"),
                description: "made by a test".into(),
                ..Default::default()
            },
        )
        .await
        .expect("client")
}

#[tokio::test]
async fn every_route_answers_as_the_openapi_document_says() {
    let mut env = setup().await;
    let fx = fixtures(&env).await;

    let res = env
        .client
        .get(env.url("/openapi.json"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let doc: OpenAPI =
        serde_json::from_str(&res.text().await.expect("text")).expect("an OpenAPI 3 document");
    let mut failures = Vec::new();
    let ops = operations(&doc, &mut failures);
    let mut live = Live {
        env: &env,
        doc,
        seen: BTreeSet::new(),
        answered: BTreeMap::new(),
        failures,
        stamp: 0,
        calls: 0,
    };
    // Bearer-guarded routes; the OAuth endpoints (clients authenticate) refuse their own way.
    let guarded: Vec<&Op> = ops
        .iter()
        .filter(|o| !matches!(o.access, Access::Public | Access::Client))
        .collect();

    // 429 first, while the limited token's minute is fresh: one request spends its limit,
    // then every guarded route refuses it.
    let me = env.get("/v1/me", &fx.limited.token).await;
    assert_eq!(me.status(), reqwest::StatusCode::OK);
    for op in &guarded {
        let path = op.template.replace("{id}", "1").replace("{secret}", "1");
        let body = if op.has_body {
            Body::Json(live.example(op, fx.admin.token.expose()))
        } else {
            Body::Nothing
        };
        let limited = Auth::Bearer(fx.limited.token.expose());
        live.send(op, path, limited, body, 429).await;
    }
    for op in &ops {
        live.succeed(op, &fx).await;
    }
    for op in &guarded {
        live.refuse(op, &fx).await;
    }
    for op in ops.iter().filter(|o| o.access == Access::Client) {
        live.refuse_oauth(op, &fx).await;
    }

    // Every operation was called and gave its documented success.
    for op in &ops {
        let key = (op.method.clone(), op.template.clone());
        match live.answered.get(&key) {
            None => live.failures.push(format!(
                "{} {}: documented but never called",
                op.method, op.template
            )),
            Some(s) if !s.contains(&op.ok) => live.failures.push(format!(
                "{} {}: never answered its documented success {} (answered {s:?})",
                op.method, op.template, op.ok
            )),
            Some(_) => {}
        }
    }
    // Every schema a response refers to checked a real value.
    let mut reachable = BTreeSet::new();
    for (_, _, o) in live.doc.operations() {
        for r in o
            .responses
            .responses
            .values()
            .filter_map(ReferenceOr::as_item)
        {
            for m in r.content.values() {
                if let Some(s) = &m.schema {
                    refs_from(&live.doc, s.into(), &mut reachable);
                }
            }
        }
    }
    for name in reachable.difference(&live.seen) {
        live.failures.push(format!(
            "#/components/schemas/{name}: a response refers to it, but no answer checked a \
             non-null value against it; add a call whose answer has one"
        ));
    }
    let (calls, failures) = (live.calls, std::mem::take(&mut live.failures));
    assert!(
        failures.is_empty(),
        "{} difference(s) between /openapi.json and the live API ({calls} calls):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(calls > ops.len() * 3, "only {calls} calls");
    env.stop().await;
}

/// The validator itself: it refuses what the schema does not say, and says where.
#[test]
fn the_validator_refuses_what_the_schema_does_not_list() {
    let doc: OpenAPI = serde_json::from_value(json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": {
            "Thing": {
                "type": "object", "required": ["id"],
                "properties": {
                    "id": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time", "nullable": true},
                    "kind": {"type": "string", "enum": ["a", "b"]},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }
            },
            "More": {"allOf": [
                {"$ref": "#/components/schemas/Thing"},
                {"type": "object", "properties": {"extra": {"type": "boolean"}}}
            ]},
            "Open": {"type": "object", "additionalProperties": true}
        }}
    }))
    .expect("doc");
    let errors = |name: &str, v: Value| {
        let mut seen = BTreeSet::new();
        let r = format!("{SCHEMAS}{name}");
        let mut val = Validator::new(&doc, &mut seen);
        val.check(Target::Ref(&r), &v, "$");
        val.errors
    };
    let good = json!({"id": 1, "at": "2024-05-01T10:00:00Z", "kind": "a", "tags": ["x"]});
    assert_eq!(errors("Thing", good.clone()), Vec::<String>::new());
    assert_eq!(
        errors("Thing", json!({"id": 2, "at": null})),
        Vec::<String>::new()
    );
    let mut more = good.clone();
    more["extra"] = json!(true);
    assert_eq!(errors("More", more.clone()), Vec::<String>::new());
    assert_eq!(
        errors("Open", json!({"anything": [1]})),
        Vec::<String>::new()
    );

    let one = |name: &str, v: Value| {
        let e = errors(name, v);
        assert_eq!(e.len(), 1, "{e:?}");
        e.into_iter().next().unwrap_or_default()
    };
    let e = one("Thing", json!({"id": 1, "uses": 3}));
    assert!(
        e.starts_with("$.uses: ") && e.contains("does not list it"),
        "{e}"
    );
    // One line for a property every item of a list has.
    let e = one("Thing", json!({"id": 1, "tags": [1, 2, 3]}));
    assert!(e.starts_with("$.tags[0]: expected a string"), "{e}");
    let e = one("More", json!({"id": 1, "extra": true, "more": 1}));
    assert!(e.starts_with("$.more: "), "{e}");
    assert!(one("Thing", json!({"at": null})).contains("`id` is missing"));
    assert!(one("Thing", json!({"id": 1.5})).starts_with("$.id: expected an integer"));
    assert!(one("Thing", json!({"id": null})).contains("not nullable"));
    assert!(one("Thing", json!({"id": 1, "at": "yesterday"})).contains("RFC 3339"));
    assert!(one("Thing", json!({"id": 1, "kind": "c"})).contains("enum"));
    assert!(one("Thing", json!({"id": 1, "tags": ["x", 2]})).starts_with("$.tags[1]: "));
    assert!(one("Thing", json!([])).contains("expected an object"));
}
