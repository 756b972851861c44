//! Money: exact decimals rounded half away from zero to cents, VAT classes and Dutch rates.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Rounds to cents, half away from zero (never banker's rounding).
#[must_use]
pub fn round_cents(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// Formats an amount with exactly two decimals, e.g. `"121.00"`.
#[must_use]
pub fn format_cents(value: Decimal) -> String {
    round_cents(value).to_string()
}

/// The four Dutch VAT classes an invoice line can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VatClass {
    /// 21 % (19 % before 2012-10-01).
    High,
    /// 9 % (6 % before 2019-01-01).
    Low,
    /// 0 %, exempt.
    Zero,
    /// 0 %, VAT reverse-charged to the customer.
    ReverseCharge,
}

impl VatClass {
    /// All classes in display order.
    pub const ALL: [VatClass; 4] = [Self::High, Self::Low, Self::Zero, Self::ReverseCharge];

    /// The wire name (`high`, `low`, `zero`, `reverse_charge`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
            Self::Zero => "zero",
            Self::ReverseCharge => "reverse_charge",
        }
    }

    /// The VAT rate in percent on `date`.
    #[must_use]
    pub fn rate_percent(self, date: NaiveDate) -> Decimal {
        match self {
            Self::High => {
                if date < NaiveDate::from_ymd_opt(2012, 10, 1).unwrap_or(NaiveDate::MIN) {
                    Decimal::from(19)
                } else {
                    Decimal::from(21)
                }
            }
            Self::Low => {
                if date < NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or(NaiveDate::MIN) {
                    Decimal::from(6)
                } else {
                    Decimal::from(9)
                }
            }
            Self::Zero | Self::ReverseCharge => Decimal::ZERO,
        }
    }

    /// The SnelStart grootboekfunctie of the revenue ledger for this class (12, 11 or 10).
    #[must_use]
    pub fn ledger_function(self) -> u8 {
        match self {
            Self::High => 12,
            Self::Low => 11,
            Self::Zero | Self::ReverseCharge => 10,
        }
    }
}

impl fmt::Display for VatClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VatClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "high" => Ok(Self::High),
            "low" => Ok(Self::Low),
            "zero" => Ok(Self::Zero),
            "reverse_charge" => Ok(Self::ReverseCharge),
            other => Err(format!(
                "{other:?} is not a VAT class; use high, low, zero or reverse_charge"
            )),
        }
    }
}

/// The VAT on `base` in `class` on `date`, rounded to cents.
#[must_use]
pub fn vat_amount(class: VatClass, date: NaiveDate, base: Decimal) -> Decimal {
    round_cents(base * class.rate_percent(date) / Decimal::ONE_HUNDRED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let cases = [
            (dec!(0.005), "0.01"),
            (dec!(0.015), "0.02"),
            (dec!(0.025), "0.03"),
            (dec!(-0.005), "-0.01"),
            (dec!(-0.025), "-0.03"),
            (dec!(0.0049), "0.00"),
            (dec!(2.675), "2.68"),
            (dec!(1), "1.00"),
            (dec!(0.9999), "1.00"),
        ];
        for (input, want) in cases {
            assert_eq!(format_cents(input), want, "{input}");
        }
    }

    #[test]
    fn rates_follow_the_invoice_date() {
        let cases = [
            (VatClass::High, d(2012, 9, 30), dec!(19)),
            (VatClass::High, d(2012, 10, 1), dec!(21)),
            (VatClass::Low, d(2018, 12, 31), dec!(6)),
            (VatClass::Low, d(2019, 1, 1), dec!(9)),
            (VatClass::Zero, d(2026, 1, 1), dec!(0)),
            (VatClass::ReverseCharge, d(2026, 1, 1), dec!(0)),
        ];
        for (class, date, want) in cases {
            assert_eq!(class.rate_percent(date), want, "{class} {date}");
        }
    }

    #[test]
    fn vat_is_rounded_per_class_base() {
        assert_eq!(
            vat_amount(VatClass::High, d(2026, 1, 1), dec!(0.10)),
            dec!(0.02)
        );
        assert_eq!(
            vat_amount(VatClass::Low, d(2026, 1, 1), dec!(0.50)),
            dec!(0.05)
        ); // 0.045
        assert_eq!(
            vat_amount(VatClass::High, d(2026, 1, 1), dec!(-0.10)),
            dec!(-0.02)
        );
        assert_eq!(
            vat_amount(VatClass::High, d(2026, 1, 1), dec!(100)),
            dec!(21.00)
        );
    }

    #[test]
    fn classes_parse_from_their_wire_names() {
        for class in VatClass::ALL {
            assert_eq!(class.as_str().parse::<VatClass>().unwrap(), class);
        }
        assert!("hoog".parse::<VatClass>().is_err());
    }
}
