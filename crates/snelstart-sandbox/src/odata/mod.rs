//! OData v3 query options as SnelStart's ASP.NET backend applies them: `$filter` (recursive-descent parser, typed against the model), `$top`, `$skip`, `$orderby`, `$select`.
//!
//! One submodule a step: [`schema`] (the models' filterable properties), [`lex`] and [`parser`]
//! (the `$filter` text to a typed [`Node`] tree, see [`ast`]), [`eval`] (a tree against a JSON
//! row) and [`query`] (paging, ordering, projection and the response body).

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::json::{parse_date, parse_decimal};

mod ast;
mod eval;
mod lex;
mod parser;
mod query;
mod schema;
#[cfg(test)]
mod tests;

pub use ast::*;
use eval::*;
use lex::*;
pub use parser::*;
pub use query::*;
pub use schema::*;
