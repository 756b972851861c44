//! The body of an invoice and its lines.

use koppeling_domain::ids::ResourceId;
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::money::VatClass;
use koppeling_domain::problem::{Problem, Rule};
use serde::Deserialize;

use super::parse::*;

fn default_payment_term() -> i64 {
    30
}

/// One invoice line.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutInvoiceLine)]
pub struct LineBody {
    /// Description (may be empty).
    #[serde(default)]
    pub description: String,
    /// Quantity, at most 4 decimals.
    pub quantity: Amount,
    /// Unit price excluding VAT, at most 4 decimals.
    pub unit_price: Amount,
    /// `high`, `low`, `zero` or `reverse_charge`.
    #[schema(value_type = crate::openapi::schemas::VatClass)]
    pub vat: VatClass,
    /// Read-only (the line's amount as GET shows it): accepted and ignored.
    #[serde(default)]
    #[schema(value_type = Option<ReadOnly>)]
    pub amount: Option<serde::de::IgnoredAny>,
}

/// `PUT /administraties/{adm}/invoices/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutInvoice)]
pub struct PutInvoiceBody {
    /// Invoice number (factuurnummer).
    pub number: Text,
    /// The relation it is addressed to.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub relation_id: String,
    /// Invoice date.
    pub date: Date,
    /// Payment term in days (30 when absent).
    #[serde(default = "default_payment_term", deserialize_with = "whole")]
    #[schema(minimum = 0)]
    pub payment_term_days: i64,
    /// `draft` or `final`.
    #[schema(value_type = crate::openapi::schemas::InvoiceStatus)]
    pub status: InvoiceStatus,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Lines.
    #[serde(deserialize_with = "objects")]
    pub lines: Vec<LineBody>,
    /// The invoice's own id, as GET shows it: accepted when it equals the path's
    /// (`id_mismatch` otherwise), so that a fetched invoice can be PUT back.
    #[serde(default)]
    pub id: Option<String>,
    /// Read-only parts of the representation GET returns: accepted and ignored.
    #[serde(default)]
    #[schema(value_type = Option<ReadOnly>)]
    pub totals: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    #[schema(value_type = Option<ReadOnly>)]
    pub sync: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    #[schema(value_type = Option<ReadOnly>)]
    pub payment: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    #[schema(value_type = Option<ReadOnly>)]
    pub drift: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    #[schema(value_type = Option<ReadOnly>)]
    pub documents: Option<serde::de::IgnoredAny>,
}

/// `id_mismatch` when a body's `id` differs from the path's.
fn id_matches(body_id: Option<&str>, path_id: &ResourceId, problems: &mut Vec<Problem>) {
    if let Some(given) = body_id
        && given != path_id.as_str()
    {
        problems.push(Problem::new(
            "id",
            Rule::IdMismatch {
                given: given.to_owned(),
                path: path_id.as_str().to_owned(),
            },
        ));
    }
}

impl PutInvoiceBody {
    /// The invoice with id `id`.
    ///
    /// # Errors
    /// A problem on `relation_id` when it is not a valid id.
    pub fn into_domain(self, id: ResourceId) -> Result<Invoice, Vec<Problem>> {
        let mut problems = Vec::new();
        id_matches(self.id.as_deref(), &id, &mut problems);
        let relation_id = resource_id(&self.relation_id, "relation_id", &mut problems);
        let invoice = relation_id.map(|relation_id| Invoice {
            id,
            number: self.number.0,
            relation_id,
            date: self.date.0,
            payment_term_days: self.payment_term_days,
            status: self.status,
            description: self.description,
            lines: self
                .lines
                .into_iter()
                .map(|l| InvoiceLine {
                    description: l.description,
                    quantity: l.quantity.0,
                    unit_price: l.unit_price.0,
                    vat: l.vat,
                })
                .collect(),
        });
        done(invoice, problems)
    }
}
