//! The bodies of relations and their SnelStart tick.

use koppeling_domain::ids::ResourceId;
use koppeling_domain::relation::{Address, Relation, RelationKind};
use serde::Deserialize;

use super::parse::*;

/// The address of a relation.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Address)]
pub struct AddressBody {
    /// Street.
    #[serde(default)]
    pub street: Option<String>,
    /// House number with any addition.
    #[serde(default)]
    pub house_number: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country; `NL` when absent.
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

/// `PUT /administraties/{adm}/relations/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutRelation)]
pub struct PutRelationBody {
    /// The Radar360 relation code (may contain letters; SnelStart needs digits).
    pub code: Text,
    /// `company` or `person`.
    #[schema(value_type = crate::openapi::schemas::RelationKind)]
    pub kind: RelationKind,
    /// Name (not blank).
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub name: String,
    /// Address.
    #[serde(default, deserialize_with = "object_opt")]
    pub address: Option<AddressBody>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// VAT number.
    #[serde(default)]
    pub vat_number: Option<String>,
    /// KvK number.
    #[serde(default)]
    pub coc_number: Option<String>,
    /// IBAN.
    #[serde(default)]
    pub iban: Option<String>,
}

impl PutRelationBody {
    /// The relation with id `id`; the SnelStart tick is the store's to keep.
    #[must_use]
    pub fn into_domain(self, id: ResourceId) -> Relation {
        Relation {
            id,
            code: self.code.0,
            kind: self.kind,
            name: self.name,
            address: self.address.map(|a| Address {
                street: a.street,
                house_number: a.house_number,
                postcode: a.postcode,
                city: a.city,
                country: Some(a.country.unwrap_or_else(|| "NL".to_owned())),
            }),
            email: self.email,
            phone: self.phone,
            vat_number: self.vat_number,
            coc_number: self.coc_number,
            iban: self.iban,
            snelstart_enabled: false,
        }
    }
}

/// `PUT /administraties/{adm}/relations/{id}/snelstart`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutSnelstart)]
pub struct PutSnelstartBody {
    /// Tick or un-tick SnelStart.
    pub enabled: bool,
}
