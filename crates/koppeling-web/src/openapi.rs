//! The OpenAPI 3.1 description of `/api/v1`, written by hand to match the handlers.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// `GET /api/v1/openapi.json` (unauthenticated).
pub(crate) async fn serve() -> Response {
    Json(document()).into_response()
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_body(schema: Value) -> Value {
    json!({ "content": { "application/json": { "schema": schema } } })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    answer(description, r("Error"))
}

fn errors(codes: &[&str]) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    for code in codes {
        let text = match *code {
            "400" => {
                "Malformed JSON, a wrong type, an unknown field or an invalid path id; `field` names it"
            }
            "401" => "Missing or wrong bearer token",
            "404" => "Unknown administratie or id",
            "409" => {
                "Conflicts with the sync state or a uniqueness rule (e.g. `invoice_locked`, `outcome_unknown` while the outcome of a booking is being looked up, `number_taken` for a final invoice number already used, `not_failed`, `code_taken`, `email_taken`)"
            }
            "422" => {
                "Well-formed but a rule is violated; `problems` lists every one (`too_long` for a text over 1,000 characters, naming the field)"
            }
            "503" => {
                "SnelStart could not be reached (`unavailable`), or the database is busy (`busy`, with `Retry-After`; nothing was written, repeat the request)"
            }
            _ => "Error",
        };
        map.insert((*code).to_owned(), error(text));
    }
    // Every operation uses the database, which may be busy (a lock held by another process).
    map.entry("503").or_insert_with(|| {
        error("The database is busy (`busy`); nothing was written: repeat the request after `Retry-After` seconds")
    });
    // The HTTP edge (issue 13): every request is bounded in time and in concurrency.
    map.insert(
        "408".to_owned(),
        error("The request (its body, or the answer) was not complete within `http.request_timeout_secs` (`request_timeout`); nothing of it was kept"),
    );
    if let Some(Value::Object(busy)) = map.get_mut("503")
        && let Some(Value::String(text)) = busy.get_mut("description")
    {
        text.push_str("; or more requests are in progress than `http.max_concurrent_requests` allows (`overloaded`, with `Retry-After: 1`)");
    }
    if let Some(Value::Object(busy)) = map.get_mut("503") {
        busy.insert("headers".to_owned(), json!({
            "Retry-After": {
                "description": "Seconds to wait before repeating the request (sent with `busy`)",
                "schema": { "type": "integer", "minimum": 0 }
            }
        }));
    }
    map
}

fn op(
    summary: &str,
    params: &[&str],
    request: Option<Value>,
    ok: (&str, Value),
    error_codes: &[&str],
) -> Value {
    let mut responses = errors(error_codes);
    let (status, schema) = ok;
    if request.is_some() && summary.starts_with("Create or replace") {
        responses.insert("201".to_owned(), answer("Created", schema.clone()));
    }
    responses.insert(status.to_owned(), answer("OK", schema));
    let mut operation = json!({
        "summary": summary,
        "parameters": params.iter().map(|p| json!({ "$ref": format!("#/components/parameters/{p}") })).collect::<Vec<_>>(),
        "responses": responses,
    });
    if request.is_some()
        && let Some(Value::Object(responses)) = operation.get_mut("responses")
    {
        responses.insert(
            "413".to_owned(),
            error("The request body is larger than 2 MB (`too_large`); nothing was written"),
        );
    }
    if let (Some(body), Some(obj)) = (request, operation.as_object_mut()) {
        obj.insert("requestBody".to_owned(), {
            let mut b = json_body(body);
            if let Some(o) = b.as_object_mut() {
                o.insert("required".to_owned(), Value::Bool(true));
            }
            b
        });
    }
    operation
}

fn money() -> Value {
    json!({ "type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "examples": ["121.00"] })
}

fn amount_in() -> Value {
    json!({ "description": "A decimal with at most 4 decimals, as a string or a number; never read through a float",
            "oneOf": [ { "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$" }, { "type": "number" } ] })
}

fn nullable(schema: Value) -> Value {
    json!({ "oneOf": [schema, { "type": "null" }] })
}

fn schemas() -> Value {
    let mut all = core_schemas();
    if let Some(map) = all.as_object_mut() {
        for (name, schema) in readback_schemas().as_object().cloned().unwrap_or_default() {
            map.insert(name, schema);
        }
        for (name, schema) in reconciliation_schemas()
            .as_object()
            .cloned()
            .unwrap_or_default()
        {
            map.insert(name, schema);
        }
    }
    all
}

/// The reconciliation's and the preview's schemas (product §8.3).
fn reconciliation_schemas() -> Value {
    let class = json!({
        "type": "object", "required": ["base", "vat"],
        "properties": { "base": money(), "vat": money() }
    });
    let by_class = json!({
        "type": "object", "required": ["high", "low", "zero"],
        "description": "Totals per VAT class as on the btw-aangifte; `zero` includes reverse charge (both book on ledger function 10)",
        "properties": { "high": class.clone(), "low": class.clone(), "zero": class }
    });
    let problems = json!({ "type": "array", "items": r("Problem") });
    json!({
        "Reconciliation": {
            "type": "object",
            "required": ["period", "checked_at", "radar360", "snelstart", "matched", "differences"],
            "properties": {
                "period": { "type": "object", "required": ["from", "to"], "properties": {
                    "from": { "type": "string", "format": "date" }, "to": { "type": "string", "format": "date" } } },
                "checked_at": { "type": "string", "format": "date-time", "description": "when SnelStart was read" },
                "radar360": { "type": "object", "required": ["count", "net", "vat", "gross", "by_class"],
                    "description": "The final invoices of ticked relations dated in the period",
                    "properties": { "count": { "type": "integer" }, "net": money(), "vat": money(), "gross": money(), "by_class": by_class.clone() } },
                "snelstart": { "type": "object", "required": ["count", "gross", "by_class"],
                    "description": "SnelStart's verkoopfacturen dated in the period; by_class from the grootboekmutaties on the koppeling's revenue ledgers (base) and VAT ledgers (vat) for their invoice numbers",
                    "properties": { "count": { "type": "integer" }, "gross": money(), "by_class": by_class } },
                "matched": { "type": "integer", "description": "invoices present on both sides without any difference" },
                "differences": { "type": "array", "items": r("ReconciliationDifference") }
            }
        },
        "ReconciliationDifference": {
            "type": "object", "required": ["kind", "invoice_id", "number", "radar360", "snelstart"],
            "properties": {
                "kind": { "enum": ["missing_in_snelstart", "unknown_in_radar360", "amount_differs", "date_differs", "relatie_differs", "deleted_in_snelstart"] },
                "invoice_id": { "type": ["string", "null"], "description": "null for unknown_in_radar360" },
                "number": { "type": "string" },
                "radar360": { "type": ["string", "null"], "description": "Radar360's value: the gross (two decimals), the date (YYYY-MM-DD) or the SnelStart relatie id the relation is linked to" },
                "snelstart": { "type": ["string", "null"], "description": "SnelStart's value, alike" }
            }
        },
        "Preview": {
            "type": "object", "required": ["relation", "invoices", "totals"],
            "properties": {
                "relation": { "type": "object", "required": ["ok", "problems"], "properties": { "ok": { "type": "boolean" }, "problems": problems.clone() } },
                "invoices": { "type": "array", "items": { "type": "object",
                    "required": ["invoice_id", "number", "date", "gross", "would", "problems"],
                    "properties": {
                        "invoice_id": { "type": "string" }, "number": { "type": "string" },
                        "date": { "type": "string", "format": "date" }, "gross": money(),
                        "would": { "enum": ["send", "skip", "fail", "wait_start_date", "already_in_snelstart"] },
                        "problems": problems
                    } } },
                "totals": { "type": "object", "required": ["count", "gross"], "description": "over the invoices that would be sent",
                    "properties": { "count": { "type": "integer" }, "gross": money() } }
            }
        }
    })
}

/// The overview and the read-back's schemas (product §8.2), apart to keep `json!` within its
/// recursion limit.
fn readback_schemas() -> Value {
    json!({
        "Integration": {
            "type": "object",
            "required": ["name", "active", "state", "counts", "key_set"],
            "properties": {
                "name": { "const": "snelstart" },
                "active": { "type": "boolean" },
                "state": { "enum": ["inactive", "active", "paused_auth"] },
                "problem": { "type": ["string", "null"] },
                "last_sync_at": { "type": ["string", "null"], "format": "date-time" },
                "features": { "type": "object", "additionalProperties": { "enum": ["ok", "missing_scope"] } },
                "counts": {
                    "type": "object",
                    "properties": {
                        "queued": { "type": "integer" }, "in_progress": { "type": "integer" },
                        "synced": { "type": "integer" }, "failed": { "type": "integer" },
                        "paid": { "type": "integer" }, "drift": { "type": "integer" },
                        "skipped": { "type": "integer" }
                    }
                },
                "configured": { "type": "boolean" },
                "key_set": { "type": "boolean" },
                "connection": { "enum": ["snelstart_link", "pasted", null], "description": "how the koppelsleutel arrived: through SnelStart's activation link (product §8.1) or pasted; null without a key" },
                "key_status": { "enum": ["missing", "ok", "unusable"], "description": "unusable: a koppelsleutel is stored but no configured master key decrypts it (\"sleutel onbruikbaar\"); a PUT with a new key replaces it" },
                "vat_codes": r("VatCodes"),
                "sales_journal_code": { "type": "integer" },
                "notify_admin_id": { "type": ["string", "null"] },
                "start_date": { "type": ["string", "null"], "format": "date" },
                "revenue_ledgers": r("RevenueLedgers")
            }
        },
        "Payment": {
            "type": "object",
            "required": ["status", "outstanding", "paid_at", "checked_at"],
            "properties": {
                "status": { "enum": ["open", "partially_paid", "paid"] },
                "outstanding": money(),
                "paid_at": { "type": ["string", "null"], "format": "date" },
                "checked_at": { "type": "string", "format": "date-time" }
            }
        },
        "Drift": {
            "type": "object",
            "required": ["kind", "by_accountant", "detected_at", "changes"],
            "properties": {
                "kind": { "enum": ["changed", "deleted"] },
                "by_accountant": { "type": "boolean" },
                "detected_at": { "type": "string", "format": "date-time" },
                "changes": { "type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "field": { "type": "string" },
                        "radar360": { "type": "string" },
                        "snelstart": { "type": "string" }
                    }
                } }
            }
        },
        "Event": {
            "type": "object",
            "required": ["id", "type", "at", "invoice_id", "data"],
            "properties": {
                "id": { "type": "integer" },
                "type": { "enum": ["invoice.synced", "invoice.failed", "invoice.skipped", "invoice.paid", "invoice.payment_changed", "invoice.drift"] },
                "at": { "type": "string", "format": "date-time" },
                "invoice_id": { "type": "string" },
                "data": { "type": "object" }
            }
        }
    })
}

fn core_schemas() -> Value {
    json!({
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": { "type": "string", "description": "snake_case code" },
                "message": { "type": "string" },
                "field": { "type": "string", "description": "JSON path such as lines[0].unit_price" },
                "problems": { "type": "array", "items": r("Problem") }
            }
        },
        "Problem": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "field": { "type": "string" },
                "code": { "type": "string" },
                "message": { "type": "string" },
                "hint": { "type": "string" }
            }
        },
        "PutAdministratie": {
            "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": { "name": { "type": "string" } }
        },
        "Administratie": {
            "type": "object", "required": ["code", "name"],
            "properties": { "code": { "type": "string" }, "name": { "type": "string" } }
        },
        "PutAdmin": {
            "type": "object", "additionalProperties": false, "required": ["name", "email"],
            "properties": {
                "name": { "type": "string" },
                "email": { "type": "string", "format": "email", "description": "The log-in; unique across the service" },
                "password": { "type": "string", "writeOnly": true, "description": "Sets the UI log-in; stored as an Argon2id hash, never returned" }
            }
        },
        "Admin": {
            "type": "object", "required": ["id", "name", "email"],
            "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "email": { "type": "string" } }
        },
        "Address": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "street": { "type": ["string", "null"] },
                "house_number": { "type": ["string", "null"] },
                "postcode": { "type": ["string", "null"] },
                "city": { "type": ["string", "null"] },
                "country": { "type": ["string", "null"], "description": "ISO 3166-1 alpha-2; NL when absent" }
            }
        },
        "PutRelation": {
            "type": "object", "additionalProperties": false, "required": ["code", "kind", "name"],
            "properties": {
                "code": { "type": "string", "description": "Radar360 relation code; SnelStart needs digits only" },
                "kind": { "enum": ["company", "person"] },
                "name": { "type": "string" },
                "address": nullable(r("Address")),
                "email": { "type": ["string", "null"] },
                "phone": { "type": ["string", "null"] },
                "vat_number": { "type": ["string", "null"] },
                "coc_number": { "type": ["string", "null"] },
                "iban": { "type": ["string", "null"] }
            }
        },
        "Relation": {
            "type": "object",
            "required": ["id", "code", "kind", "name", "snelstart_enabled"],
            "properties": {
                "id": { "type": "string" },
                "code": { "type": "string" },
                "kind": { "enum": ["company", "person"] },
                "name": { "type": "string" },
                "address": nullable(r("Address")),
                "email": { "type": ["string", "null"] },
                "phone": { "type": ["string", "null"] },
                "vat_number": { "type": ["string", "null"] },
                "coc_number": { "type": ["string", "null"] },
                "iban": { "type": ["string", "null"] },
                "snelstart_enabled": { "type": "boolean" }
            }
        },
        "PutSnelstart": {
            "type": "object", "additionalProperties": false, "required": ["enabled"],
            "properties": { "enabled": { "type": "boolean" } }
        },
        "PutInvoiceLine": {
            "type": "object", "additionalProperties": false, "required": ["quantity", "unit_price", "vat"],
            "properties": {
                "description": { "type": "string" },
                "quantity": amount_in(),
                "unit_price": amount_in(),
                "vat": r("VatClass")
            }
        },
        "VatClass": { "enum": ["high", "low", "zero", "reverse_charge"] },
        "PutInvoice": {
            "type": "object", "additionalProperties": false,
            "required": ["number", "relation_id", "date", "status", "lines"],
            "properties": {
                "number": { "type": "string" },
                "relation_id": { "type": "string" },
                "date": { "type": "string", "format": "date" },
                "payment_term_days": { "type": "integer", "default": 30 },
                "status": { "enum": ["draft", "final"] },
                "description": { "type": ["string", "null"] },
                "lines": { "type": "array", "items": r("PutInvoiceLine") }
            }
        },
        "Sync": {
            "type": "object",
            "required": ["status", "attempts", "updated_at"],
            "properties": {
                "status": { "enum": ["queued", "in_progress", "synced", "failed", "skipped"] },
                "snelstart_id": { "type": ["string", "null"], "description": "The verkoopboeking id" },
                "error": { "type": ["string", "null"] },
                "hint": { "type": ["string", "null"] },
                "attempts": { "type": "integer" },
                "next_attempt_at": { "type": ["string", "null"], "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" }
            }
        },
        "Invoice": {
            "type": "object",
            "required": ["id", "number", "relation_id", "date", "payment_term_days", "status", "lines", "totals", "sync"],
            "properties": {
                "id": { "type": "string" },
                "number": { "type": "string" },
                "relation_id": { "type": "string" },
                "date": { "type": "string", "format": "date" },
                "payment_term_days": { "type": "integer" },
                "status": { "enum": ["draft", "final"] },
                "description": { "type": ["string", "null"] },
                "lines": { "type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "description": { "type": "string" },
                        "quantity": { "type": "string" },
                        "unit_price": { "type": "string" },
                        "vat": r("VatClass"),
                        "amount": money()
                    }
                } },
                "totals": {
                    "type": "object",
                    "properties": {
                        "net": money(), "vat": money(), "gross": money(),
                        "by_class": { "type": "object", "additionalProperties": {
                            "type": "object", "properties": { "base": money(), "vat": money() }
                        } }
                    }
                },
                "sync": nullable(r("Sync")),
                "payment": nullable(r("Payment")),
                "drift": nullable(r("Drift"))
            }
        },
        "SyncLogEntry": {
            "type": "object",
            "properties": {
                "invoice_id": { "type": "string" },
                "attempt": { "type": "integer" },
                "at": { "type": "string", "format": "date-time" },
                "outcome": { "type": "string", "description": "synced, failed, skipped or retry" },
                "error_class": { "enum": ["transient", "data", "auth", null] },
                "snelstart_code": { "type": ["string", "null"] },
                "message": { "type": "string" }
            }
        },
        "Notification": {
            "type": "object",
            "required": ["at", "to", "subject", "body", "items", "sent_at", "last_error", "send_attempts"],
            "properties": {
                "at": { "type": "string", "format": "date-time" },
                "to": { "type": "string", "description": "empty when no Beheerder was chosen: the notification is only stored" },
                "subject": { "type": "string" },
                "body": { "type": "string" },
                "items": { "type": "array", "items": { "type": "object" } },
                "sent_at": { "type": ["string", "null"], "format": "date-time", "description": "when the mail was handed to the SMTP server (for a stored-only notification: when it was stored); null while it waits to be sent, and it is retried until it is" },
                "last_error": { "type": ["string", "null"], "description": "why the last send failed; null once sent" },
                "send_attempts": { "type": "integer", "minimum": 0, "description": "sends tried so far, the successful one included" }
            }
        },
        "VatCodes": {
            "type": "object", "additionalProperties": false, "required": ["high", "low", "zero"],
            "properties": {
                "high": { "const": 12 }, "low": { "const": 11 }, "zero": { "const": 10 }
            }
        },
        "RevenueLedgers": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "high": { "type": ["integer", "null"] },
                "low": { "type": ["integer", "null"] },
                "zero": { "type": ["integer", "null"] }
            }
        },
        "PutSettings": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "vat_codes": r("VatCodes"),
                "sales_journal_code": { "type": "integer", "default": 1300 },
                "key": { "type": ["string", "null"], "writeOnly": true, "description": "The koppelsleutel; absent keeps the stored one; never returned" },
                "notify_admin_id": { "type": ["string", "null"] },
                "start_date": { "type": ["string", "null"], "format": "date" },
                "revenue_ledgers": nullable(r("RevenueLedgers"))
            }
        },
        "Check": {
            "type": "object",
            "properties": { "ok": { "type": "boolean" }, "problems": { "type": "array", "items": r("Problem") } }
        }
    })
}

fn parameters() -> Value {
    json!({
        "adm": { "name": "adm", "in": "path", "required": true,
                 "schema": { "type": "string", "pattern": "^[a-z0-9-]{1,40}$" } },
        "id": { "name": "id", "in": "path", "required": true,
                "schema": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" } },
        "status": { "name": "status", "in": "query", "required": false,
                    "schema": { "enum": ["queued", "in_progress", "synced", "failed", "skipped"] } },
        "payment": { "name": "payment", "in": "query", "required": false,
                     "schema": { "enum": ["open", "partially_paid", "paid"] } },
        "drift": { "name": "drift", "in": "query", "required": false,
                   "schema": { "type": "boolean" } },
        "page": { "name": "page", "in": "query", "required": false,
                  "schema": { "type": "integer", "minimum": 1, "default": 1 } },
        "failedOnly": { "name": "status", "in": "query", "required": false,
                        "schema": { "const": "failed" } },
        "invoiceId": { "name": "invoice_id", "in": "query", "required": false,
                       "schema": { "type": "string" } },
        "limit": { "name": "limit", "in": "query", "required": false,
                   "schema": { "type": "integer", "minimum": 1 } },
        "after": { "name": "after", "in": "query", "required": false,
                   "schema": { "type": "integer", "minimum": 0 } },
        "eventLimit": { "name": "limit", "in": "query", "required": false,
                        "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } },
        "from": { "name": "from", "in": "query", "required": true,
                  "schema": { "type": "string", "format": "date" } },
        "to": { "name": "to", "in": "query", "required": true, "description": "included; at most 366 days after from",
                "schema": { "type": "string", "format": "date" } },
        "format": { "name": "format", "in": "query", "required": false,
                    "schema": { "enum": ["json", "csv"], "default": "json" } }
    })
}

fn array(schema: Value) -> Value {
    json!({ "type": "array", "items": schema })
}

/// The document (built once).
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let base = "/administraties/{adm}";
    let paths = json!({
        "/administraties": {
            "get": op("List the administraties, by code", &[], None, ("200", array(r("Administratie"))), &["401"])
        },
        base: {
            "put": op("Create or replace an administratie", &["adm"], Some(r("PutAdministratie")), ("200", r("Administratie")), &["400", "401", "422"]),
            "get": op("Read an administratie", &["adm"], None, ("200", r("Administratie")), &["400", "401", "404"])
        },
        format!("{base}/admins"): {
            "get": op("List the Beheerders", &["adm"], None, ("200", array(r("Admin"))), &["400", "401", "404"])
        },
        format!("{base}/admins/{{id}}"): {
            "put": op("Create or replace a Beheerder", &["adm", "id"], Some(r("PutAdmin")), ("200", r("Admin")), &["400", "401", "404", "409", "422"]),
            "get": op("Read a Beheerder", &["adm", "id"], None, ("200", r("Admin")), &["400", "401", "404"])
        },
        format!("{base}/relations"): {
            "get": op("List the relations by code, 100 a page", &["adm", "page"], None, ("200", array(r("Relation"))), &["400", "401", "404"])
        },
        format!("{base}/relations/{{id}}"): {
            "put": op("Create or replace a relation", &["adm", "id"], Some(r("PutRelation")), ("200", r("Relation")), &["400", "401", "404", "422"]),
            "get": op("Read a relation", &["adm", "id"], None, ("200", r("Relation")), &["400", "401", "404"])
        },
        format!("{base}/relations/{{id}}/snelstart"): {
            "put": op("Tick or un-tick SnelStart on a relation (422 when the code is not numeric)", &["adm", "id"], Some(r("PutSnelstart")), ("200", r("Relation")), &["400", "401", "404", "409", "422"])
        },
        format!("{base}/invoices"): {
            "get": op("List invoices, newest first, 100 a page", &["adm", "status", "payment", "drift", "page"], None, ("200", array(r("Invoice"))), &["400", "401", "404"])
        },
        format!("{base}/invoices/{{id}}"): {
            "put": op("Create or replace an invoice", &["adm", "id"], Some(r("PutInvoice")), ("200", r("Invoice")), &["400", "401", "404", "409", "422"]),
            "get": op("Read an invoice with totals and sync state", &["adm", "id"], None, ("200", r("Invoice")), &["400", "401", "404"])
        },
        format!("{base}/invoices/{{id}}/retry"): {
            "post": op("Re-queue a failed invoice", &["adm", "id"], None, ("200", r("Invoice")), &["400", "401", "404", "409"])
        },
        format!("{base}/invoices/{{id}}/rebook"): {
            "post": op("Book an invoice deleted in SnelStart again (409 not_deleted otherwise)", &["adm", "id"], None, ("200", r("Invoice")), &["400", "401", "404", "409"])
        },
        format!("{base}/events"): {
            "get": op("Events for Radar360, ascending gapless ids per administratie", &["adm", "after", "eventLimit"], None, ("200", array(r("Event"))), &["400", "401", "404"])
        },
        format!("{base}/sync-log"): {
            "get": op("Sync attempts, newest first", &["adm", "failedOnly", "invoiceId", "limit"], None, ("200", array(r("SyncLogEntry"))), &["400", "401", "404"])
        },
        format!("{base}/notifications"): {
            "get": op("Notifications to the Beheerder with their delivery state, newest first", &["adm", "limit"], None, ("200", array(r("Notification"))), &["400", "401", "404"])
        },
        format!("{base}/integrations"): {
            "get": op("The koppelingen overview", &["adm"], None, ("200", array(r("Integration"))), &["400", "401", "404"])
        },
        format!("{base}/integrations/snelstart"): {
            "put": op("Create or replace the SnelStart settings (the key is write-only)", &["adm"], Some(r("PutSettings")), ("200", r("Integration")), &["400", "401", "404", "422"]),
            "get": op("Read the SnelStart koppeling and its settings", &["adm"], None, ("200", r("Integration")), &["400", "401", "404"])
        },
        format!("{base}/integrations/snelstart/activate"): {
            "post": op("Run the activation checks and activate; 422 activation_failed with problems otherwise", &["adm"], None, ("200", r("Integration")), &["400", "401", "404", "422", "503"])
        },
        format!("{base}/integrations/snelstart/deactivate"): {
            "post": op("Deactivate the koppeling (queued invoices wait)", &["adm"], None, ("200", r("Integration")), &["400", "401", "404"])
        },
        format!("{base}/integrations/snelstart/check"): {
            "post": op("Run the activation checks without activating", &["adm"], None, ("200", r("Check")), &["400", "401", "404", "503"])
        },
        format!("{base}/integrations/snelstart/connect"): {
            "post": op("Make an activation link (product §8.1): a fresh reference (256 random bits, stored hashed, valid 24 h) in SnelStart's activation URL, with successUrl <public_url>/koppelingen?gekoppeld=snelstart; 422 connect_unavailable when snelstart.app_short_name is unset", &["adm"], None, ("200", json!({ "type": "object", "required": ["activation_url", "reference_expires_at"], "properties": { "activation_url": { "type": "string" }, "reference_expires_at": { "type": "string", "format": "date-time" } } })), &["400", "401", "404", "422", "503"])
        },
        "/webhooks/snelstart": {
            "servers": [ { "url": "/" } ],
            "post": {
                "summary": "SnelStart's activation webhook (product §8.1), outside /api/v1 and without a bearer token: {\"KoppelSleutel\",\"ActionType\":\"Create\"|\"Regenerate\"|\"Delete\",\"ReferenceKey\"}, names and actions in any case. 200 once the change is stored (the activation checks run after the answer); a message delivered again changes nothing",
                "security": [],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "properties": { "KoppelSleutel": { "type": "string" }, "ActionType": { "enum": ["Create", "Regenerate", "Delete"] }, "ReferenceKey": { "type": "string", "maxLength": 500 } } } } } },
                "responses": {
                    "200": { "description": "Stored (or delivered before)" },
                    "400": error("Not a JSON object, or a property is missing or wrong (`invalid_webhook`, with `problems`)"),
                    "404": error("Unknown, void or expired reference, or not the connection's (`unknown_reference`); nothing changed"),
                    "409": error("A Create for the connection with another key (`reference_used`); nothing changed"),
                    "413": error("The body is larger than 64 KB (`too_large`)"),
                    "503": error("The database is busy; retry shortly")
                }
            }
        },
        "/openapi.json": {
            "get": { "summary": "This document", "security": [], "responses": { "200": { "description": "OK" } } }
        }
    });
    let mut paths = paths;
    if let Some(map) = paths.as_object_mut() {
        for (path, item) in reconciliation_paths(base) {
            map.insert(path, item);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "koppeling",
            "version": "1",
            "description": "Radar360 → SnelStart koppeling. Amounts go out as strings with two decimals; amounts, quantities and unit prices come in as strings or numbers with at most 4 decimals. Bodies refuse unknown fields. GET /healthz and GET /metrics (Prometheus text) live outside /api/v1 and need no token."
        },
        "servers": [ { "url": "/api/v1" } ],
        "security": [ { "bearer": [] } ],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "parameters": parameters(),
            "schemas": capped(schemas())
        }
    })
}

/// The reconciliation's and the preview's operations (product §8.3).
fn reconciliation_paths(base: &str) -> Vec<(String, Value)> {
    let mut reconcile = op(
        "Reconciliation (aansluiting): the final invoices of ticked relations dated in the period against SnelStart's verkoopfacturen and ledger mutations, totals per VAT class on both sides, matched, and the differences; reads SnelStart (paged listings, ⌊rows ÷ 500⌋ + 1 calls each), writes nothing. 422 for a period that ends before it starts or is longer than 366 days; 409 not_connected without a koppelsleutel; 503 snelstart_budget with Retry-After when the administratie's SnelStart call budget cannot serve it now",
        &["adm", "from", "to", "format"],
        None,
        ("200", r("Reconciliation")),
        &["400", "401", "404", "409", "422", "503"],
    );
    if let Some(ok) = reconcile.pointer_mut("/responses/200/content") {
        ok["text/csv"] = json!({ "schema": { "type": "string",
            "description": "With format=csv: the differences, `;`-separated, a header row `kind;invoice_id;number;radar360;snelstart`, amounts with a decimal comma" } });
    }
    let preview = op(
        "What ticking SnelStart on this relation would do, invoice by invoice; writes nothing (reads from SnelStart which of its invoice numbers are already there)",
        &["adm", "id"],
        None,
        ("200", r("Preview")),
        &["400", "401", "404", "503"],
    );
    vec![
        (
            format!("{base}/reconciliation"),
            json!({ "get": reconcile }),
        ),
        (
            format!("{base}/relations/{{id}}/snelstart/preview"),
            json!({ "get": preview }),
        ),
    ]
}

/// The request bodies whose free-text fields are capped (issue 13).
const CAPPED: &[&str] = &[
    "PutAdministratie",
    "PutAdmin",
    "Address",
    "PutRelation",
    "PutInvoiceLine",
    "PutInvoice",
    "PutSettings",
];

/// Adds `maxLength` ([`crate::dto::MAX_TEXT_CHARS`]) to every free-text property of the
/// request bodies (a `password` has its own rule; dates have their format). The check
/// itself ([`crate::dto`]) covers every string of a body, so the document cannot promise
/// more than is enforced.
fn capped(mut schemas: Value) -> Value {
    for name in CAPPED {
        let Some(Value::Object(properties)) = schemas.pointer_mut(&format!("/{name}/properties"))
        else {
            continue;
        };
        for (field, property) in properties.iter_mut() {
            let Value::Object(property) = property else {
                continue;
            };
            let text = match property.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            let dated = property
                .get("format")
                .is_some_and(|f| f == "date" || f == "date-time");
            if text && field != "password" && !dated {
                property.insert("maxLength".to_owned(), json!(crate::dto::MAX_TEXT_CHARS));
            }
        }
    }
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\"$ref\":\"#/components/") {
            rest = &rest[at + 21..];
            let end = rest.find('"').unwrap();
            let pointer = format!("/components/{}", &rest[..end]);
            assert!(doc.pointer(&pointer).is_some(), "{pointer}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }

    #[test]
    fn capped_fields_have_max_length_and_bodies_list_413() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["PutRelation"]["properties"]["name"]["maxLength"],
            1000
        );
        assert_eq!(schemas["Address"]["properties"]["city"]["maxLength"], 1000);
        assert_eq!(
            schemas["PutInvoiceLine"]["properties"]["description"]["maxLength"],
            1000
        );
        assert!(schemas["PutAdmin"]["properties"]["password"]["maxLength"].is_null());
        let put = &doc["paths"]["/administraties/{adm}/relations/{id}"]["put"]["responses"];
        assert!(put["413"].is_object() && put["408"].is_object());
        let list = &doc["paths"]["/administraties/{adm}/relations"]["get"];
        assert!(list["parameters"].to_string().contains("/page"));
    }

    #[test]
    fn every_operation_lists_503_busy_with_retry_after() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            // The webhook is outside /api/v1 and answers SnelStart, which does not retry.
            if path == "/openapi.json" || path == "/webhooks/snelstart" {
                continue;
            }
            for (method, operation) in item.as_object().unwrap() {
                let busy = &operation["responses"]["503"];
                assert!(
                    busy["description"].as_str().unwrap().contains("busy"),
                    "{method} {path}"
                );
                assert!(
                    busy["headers"]["Retry-After"].is_object(),
                    "{method} {path}"
                );
            }
        }
    }
}
