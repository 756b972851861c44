//! The body of the SnelStart koppeling's settings (the key write-only).

use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings, RevenueLedgers, VatCodes};
use koppeling_domain::problem::{Band, Problem, Rule};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::parse::*;

/// The BTW codes 12/11/10 as sent.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutVatCodes)]
pub struct VatCodesBody {
    /// Omzet hoog (12).
    #[schema(minimum = 12, maximum = 12)]
    #[serde(deserialize_with = "whole")]
    pub high: i64,
    /// Omzet laag (11).
    #[schema(minimum = 11, maximum = 11)]
    #[serde(deserialize_with = "whole")]
    pub low: i64,
    /// Omzet onbelast/verlegd (10).
    #[schema(minimum = 10, maximum = 10)]
    #[serde(deserialize_with = "whole")]
    pub zero: i64,
}

/// Optional revenue ledger per class.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutRevenueLedgers)]
pub struct RevenueLedgersBody {
    /// Ledger for high.
    #[serde(default, deserialize_with = "whole_opt")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub high: Option<i64>,
    /// Ledger for low.
    #[serde(default, deserialize_with = "whole_opt")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub low: Option<i64>,
    /// Ledger for zero and reverse charge.
    #[serde(default, deserialize_with = "whole_opt")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub zero: Option<i64>,
}

/// `PUT /administraties/{adm}/integrations/snelstart`: the settings; the key is write-only
/// and kept when absent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutSettings)]
pub struct PutSettingsBody {
    /// BTW codes (12/11/10 when absent).
    #[serde(default, deserialize_with = "object_opt")]
    pub vat_codes: Option<VatCodesBody>,
    /// Verkoopboek code (1300 when absent).
    #[serde(default, deserialize_with = "whole_opt")]
    #[schema(minimum = 1, maximum = 2147483647, default = 1300)]
    pub sales_journal_code: Option<i64>,
    /// The koppelsleutel; absent or null keeps the stored one.
    #[serde(default)]
    #[schema(value_type = Option<String>, write_only, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub key: Option<SecretString>,
    /// The Beheerder who is notified.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub notify_admin_id: Option<String>,
    /// Invoices dated before this are never sent.
    #[serde(default)]
    pub start_date: Option<Date>,
    /// Revenue ledger per class.
    #[serde(default, deserialize_with = "object_opt")]
    pub revenue_ledgers: Option<RevenueLedgersBody>,
}

fn small_int(value: i64, field: &str, problems: &mut Vec<Problem>) -> Option<i32> {
    i32::try_from(value)
        .map_err(|_| {
            problems.push(Problem::new(
                field,
                Rule::OutOfRange {
                    min: i64::from(i32::MIN),
                    max: i64::from(i32::MAX),
                    actual: value.to_string(),
                },
            ));
        })
        .ok()
}

impl PutSettingsBody {
    /// The settings and the new key, if one was given.
    ///
    /// # Errors
    /// Problems naming the field (out-of-range numbers, an invalid id or key); the rules
    /// of the settings themselves are the domain's.
    pub fn into_domain(self) -> Result<(KoppelingSettings, Option<ConnectionKey>), Vec<Problem>> {
        let mut problems = Vec::new();
        let defaults = KoppelingSettings::default();
        let vat_codes = match self.vat_codes {
            None => defaults.vat_codes,
            Some(codes) => {
                let mut code = |band: Band, value: i64| -> u8 {
                    u8::try_from(value).unwrap_or_else(|_| {
                        problems.push(Problem::new(
                            format!("vat_codes.{}", band.key()),
                            Rule::WrongVatCode { band, got: value },
                        ));
                        band.vat_code()
                    })
                };
                VatCodes {
                    high: code(Band::High, codes.high),
                    low: code(Band::Low, codes.low),
                    zero: code(Band::Zero, codes.zero),
                }
            }
        };
        let sales_journal_code = match self.sales_journal_code {
            None => defaults.sales_journal_code,
            Some(v) => small_int(v, "sales_journal_code", &mut problems).unwrap_or_default(),
        };
        let ledgers = self.revenue_ledgers.unwrap_or_default();
        let mut ledger = |name: &str, value: Option<i64>| {
            value.and_then(|v| small_int(v, &format!("revenue_ledgers.{name}"), &mut problems))
        };
        let revenue_ledgers = RevenueLedgers {
            high: ledger("high", ledgers.high),
            low: ledger("low", ledgers.low),
            zero: ledger("zero", ledgers.zero),
        };
        let notify_admin_id = self
            .notify_admin_id
            .as_deref()
            .and_then(|raw| resource_id(raw, "notify_admin_id", &mut problems));
        let key = match self.key {
            None => None,
            Some(key) => ConnectionKey::new(key.expose_secret().to_owned())
                .map_err(|p| problems.push(p))
                .ok(),
        };
        let settings = KoppelingSettings {
            vat_codes,
            sales_journal_code,
            notify_admin_id,
            start_date: self.start_date.map(|d| d.0),
            revenue_ledgers,
        };
        done(Some((settings, key)), problems)
    }
}
