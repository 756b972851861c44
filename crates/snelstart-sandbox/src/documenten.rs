//! Documents (bijlagen) on verkoopboekingen and relaties: `POST /documenten/{type}`, the listing per
//! parent, `GET`/`DELETE /documenten/{id}`, the BLG-* rules, and `documents[]` on a verkoopboeking.

use base64::Engine;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::admin::{Admin, Row};
use crate::api::Reply;
use crate::errors::{Violation, model_state};
use crate::input::Obj;
use crate::json::to_bytes;
use crate::odata::RowRef;

/// SnelStart's limit on a document's content (BLG-0013, "Content is groter dan 10MB").
pub const MAX_CONTENT: usize = 10 * 1024 * 1024;
/// At most this many characters in a `fileName` (BLG-0017).
pub const MAX_FILE_NAME: usize = 255;
/// Characters SnelStart refuses in a `fileName` (BLG-0016), besides control characters.
const FORBIDDEN: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];

/// The parent kinds of `/documenten/{documenttype}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocType {
    Verkoopboekingen,
    Relaties,
    Inkoopboekingen,
}

impl DocType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "verkoopboekingen" => Some(Self::Verkoopboekingen),
            "relaties" => Some(Self::Relaties),
            "inkoopboekingen" => Some(Self::Inkoopboekingen),
            _ => None,
        }
    }

    /// The parent's id property in a listing row (`verkoopBoekingId`, …).
    fn parent_field(self) -> &'static str {
        match self {
            Self::Verkoopboekingen => "verkoopBoekingId",
            Self::Relaties => "relatieId",
            Self::Inkoopboekingen => "inkoopBoekingId",
        }
    }
}

/// One stored document (the content decoded).
pub struct Document {
    pub id: Uuid,
    pub doctype: DocType,
    pub parent: Uuid,
    pub file_name: String,
    pub content: Vec<u8>,
    /// The `DocumentModel` (no content), as on a verkoopboeking's `documents[]`.
    pub json: Value,
}

impl Row for Document {
    fn id(&self) -> Uuid {
        self.id
    }
    fn row(&self) -> RowRef<'_> {
        RowRef::Json(&self.json)
    }
}

/// The BLG rules on a file name: BLG-0007 missing, BLG-0016 forbidden characters, BLG-0017 too long.
pub fn file_name_violation(name: Option<&str>) -> Option<&'static str> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match name {
        None => Some("BLG-0007"),
        Some(n) if n.chars().any(|c| c.is_control() || FORBIDDEN.contains(&c)) => Some("BLG-0016"),
        Some(n) if n.chars().count() > MAX_FILE_NAME => Some("BLG-0017"),
        Some(_) => None,
    }
}

fn parent_exists(a: &Admin, doctype: DocType, id: Uuid) -> bool {
    match doctype {
        DocType::Verkoopboekingen => a.boekingen.get(&id).is_some(),
        DocType::Relaties => a.relaties.get(&id).is_some(),
        DocType::Inkoopboekingen => false,
    }
}

fn not_found_parent(doctype: DocType, id: Uuid) -> Reply {
    match doctype {
        DocType::Verkoopboekingen => Reply::not_found("verkoopboeking", id),
        DocType::Relaties => Reply::not_found("relatie", id),
        DocType::Inkoopboekingen => Reply::violations(&[Violation::new("BLG-0005")]),
    }
}

/// `POST /documenten/{documenttype}` with a lower-cased body `{content, fileName, parentIdentifier}`:
/// 200 `{id, uri}` (the spec's answer; a committed write, so the lost-response fault applies).
pub fn create(a: &mut Admin, doctype: DocType, body: &Value) -> Reply {
    let m = match body {
        Value::Null => return Reply::violations(&[Violation::new("BLG-0009")]),
        Value::Object(m) => m,
        _ => return Reply::json(400, &model_state("document", "expected a JSON object")),
    };
    let o = Obj(m);
    let content = match o.str("content") {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            return Reply::json(
                400,
                &model_state(&format!("document.{}", e.field), &e.problem),
            );
        }
    };
    let file_name = match o.str("filename") {
        Ok(f) => f,
        Err(e) => {
            return Reply::json(
                400,
                &model_state(&format!("document.{}", e.field), &e.problem),
            );
        }
    };
    let parent = match o.uuid("parentidentifier") {
        Ok(p) => p,
        Err(e) => {
            return Reply::json(
                400,
                &model_state(&format!("document.{}", e.field), &e.problem),
            );
        }
    };
    let bytes = if content.trim().is_empty() {
        Vec::new()
    } else {
        match base64::engine::general_purpose::STANDARD.decode(content.trim()) {
            Ok(b) => b,
            Err(_) => {
                return Reply::json(
                    400,
                    &model_state(
                        "document.content",
                        "The input is not a valid Base-64 string.",
                    ),
                );
            }
        }
    };
    let mut problems = Vec::new();
    if bytes.is_empty() {
        problems.push(Violation::new("BLG-0011"));
    } else if bytes.len() > MAX_CONTENT {
        problems.push(Violation::new("BLG-0013"));
    }
    if let Some(code) = file_name_violation(file_name.as_deref()) {
        problems.push(Violation::new(code));
    }
    if !problems.is_empty() {
        return Reply::violations(&problems);
    }
    let Some(parent) = parent.filter(|p| parent_exists(a, doctype, *p)) else {
        return not_found_parent(doctype, parent.unwrap_or_default());
    };
    let id = Uuid::new_v4();
    let file_name = file_name.unwrap_or_default().trim().to_owned();
    let json = json!({
        "parentIdentifier": parent,
        "fileName": file_name,
        "readOnly": false,
        "id": id,
        "uri": format!("/documenten/{id}"),
    });
    a.documenten.insert(Document {
        id,
        doctype,
        parent,
        file_name,
        content: bytes,
        json,
    });
    a.documenten_by_parent.entry(parent).or_default().push(id);
    Reply::write(
        200,
        &json!({ "id": id, "uri": format!("/documenten/{id}") }),
    )
}

/// `GET /documenten/{documenttype}/{pid}`: the parent's documents, without content.
pub fn list(a: &Admin, doctype: DocType, parent: Uuid) -> Reply {
    if !parent_exists(a, doctype, parent) {
        return not_found_parent(doctype, parent);
    }
    let rows: Vec<Value> = of_parent(a, parent)
        .filter(|d| d.doctype == doctype)
        .map(|d| {
            json!({
                doctype.parent_field(): d.parent,
                "fileName": d.file_name,
                "readOnly": false,
                "id": d.id,
                "uri": format!("/documenten/{}", d.id),
            })
        })
        .collect();
    Reply::json(200, &rows)
}

/// `GET /documenten/{id}`: the `DocumentContentModel` with the content in base64.
pub fn get(a: &Admin, id: Uuid) -> Reply {
    match a.documenten.get(&id) {
        Some(d) => Reply::json(
            200,
            &json!({
                "content": base64::engine::general_purpose::STANDARD.encode(&d.content),
                "parentIdentifier": d.parent,
                "fileName": d.file_name,
                "readOnly": false,
                "id": d.id,
                "uri": format!("/documenten/{}", d.id),
            }),
        ),
        None => Reply::not_found("document", id),
    }
}

/// `DELETE /documenten/{id}`: 200 `{}`.
pub fn delete(a: &mut Admin, id: Uuid) -> Reply {
    let Some(d) = a.documenten.remove(&id) else {
        return Reply::not_found("document", id);
    };
    if let Some(ids) = a.documenten_by_parent.get_mut(&d.parent) {
        ids.retain(|x| *x != id);
        if ids.is_empty() {
            a.documenten_by_parent.remove(&d.parent);
        }
    }
    Reply::json(200, &json!({}))
}

/// Removes every document of a deleted parent.
pub fn remove_parent(a: &mut Admin, parent: Uuid) {
    for id in a.documenten_by_parent.remove(&parent).unwrap_or_default() {
        a.documenten.remove(&id);
    }
}

/// The documents of one parent, in upload order.
pub fn of_parent(a: &Admin, parent: Uuid) -> impl Iterator<Item = &Document> {
    a.documenten_by_parent
        .get(&parent)
        .into_iter()
        .flatten()
        .filter_map(|id| a.documenten.get(id))
}

/// A verkoopboeking's stored JSON with `documents[]` filled in (unchanged when it has none).
pub fn boeking_with_documents(a: &Admin, id: Uuid, json: &[u8]) -> Vec<u8> {
    if !a.documenten_by_parent.contains_key(&id) {
        return json.to_vec();
    }
    let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(json) else {
        return json.to_vec();
    };
    let docs: Vec<Value> = of_parent(a, id).map(|d| d.json.clone()).collect();
    m.insert("documents".into(), Value::Array(docs));
    to_bytes(&Value::Object(m))
}
