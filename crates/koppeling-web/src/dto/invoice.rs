//! The body of an invoice and its lines.

use koppeling_domain::ids::ResourceId;
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::money::VatClass;
use koppeling_domain::problem::Problem;
use serde::Deserialize;

use super::parse::*;

fn default_payment_term() -> i64 {
    30
}

/// One invoice line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    /// Description (may be empty).
    #[serde(default)]
    pub description: String,
    /// Quantity, at most 4 decimals.
    pub quantity: Amount,
    /// Unit price excluding VAT, at most 4 decimals.
    pub unit_price: Amount,
    /// `high`, `low`, `zero` or `reverse_charge`.
    pub vat: VatClass,
    /// Read-only (the line's amount as GET shows it): accepted and ignored.
    #[serde(default)]
    pub amount: Option<serde::de::IgnoredAny>,
}

/// `PUT /administraties/{adm}/invoices/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutInvoiceBody {
    /// Invoice number (factuurnummer).
    pub number: Text,
    /// The relation it is addressed to.
    pub relation_id: String,
    /// Invoice date.
    pub date: Date,
    /// Payment term in days (30 when absent).
    #[serde(default = "default_payment_term")]
    pub payment_term_days: i64,
    /// `draft` or `final`.
    pub status: InvoiceStatus,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Lines.
    pub lines: Vec<LineBody>,
    /// The invoice's own id, as GET shows it: accepted when it equals the path's
    /// (`id_mismatch` otherwise), so that a fetched invoice can be PUT back.
    #[serde(default)]
    pub id: Option<String>,
    /// Read-only parts of the representation GET returns: accepted and ignored.
    #[serde(default)]
    pub totals: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub sync: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub payment: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub drift: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub documents: Option<serde::de::IgnoredAny>,
}

/// `id_mismatch` when a body's `id` differs from the path's.
fn id_matches(body_id: Option<&str>, path_id: &ResourceId, problems: &mut Vec<Problem>) {
    if let Some(given) = body_id
        && given != path_id.as_str()
    {
        problems.push(Problem::new(
            "id",
            "id_mismatch",
            format!(
                "id {given:?} differs from the path's id {:?}",
                path_id.as_str()
            ),
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
