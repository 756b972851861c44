//! A validation problem: the field it names and the [`Rule`] it breaks, with the rule's data.
//!
//! Nothing downstream reads a problem's text: code branches on the [`Rule`] variant. Two
//! renderers turn a rule into words: [`Problem::message`] and [`Problem::hint`] in English
//! (the API's `message`/`hint`, next to the stable [`Problem::code`] and `field`), and
//! [`Problem::dutch`] / [`Problem::dutch_hint`] in Dutch (everything a Beheerder reads: the
//! screens and the notification e-mails). Adding a variant does not compile until both
//! renderers say it.

use std::fmt;

/// One violated rule on one field. `field` is a JSON path such as `lines[0].unit_price`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The JSON path of the offending field.
    pub field: String,
    /// What is wrong, with its data.
    pub rule: Rule,
}

/// A revenue band of the koppeling's settings (`vat_codes.<band>`, `revenue_ledgers.<band>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// BTW code 12, omzet hoog.
    High,
    /// BTW code 11, omzet laag.
    Low,
    /// BTW code 10, omzet onbelast/verlegd.
    Zero,
}

impl Band {
    /// All bands in settings order.
    pub const ALL: [Self; 3] = [Self::High, Self::Low, Self::Zero];

    /// The key in field paths: `high`, `low`, `zero`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
            Self::Zero => "zero",
        }
    }

    /// The SnelStart BTW code this band must use.
    #[must_use]
    pub fn vat_code(self) -> u8 {
        match self {
            Self::High => 12,
            Self::Low => 11,
            Self::Zero => 10,
        }
    }

    /// The Dutch name: `omzet hoog`.
    #[must_use]
    pub fn dutch(self) -> &'static str {
        match self {
            Self::High => "omzet hoog",
            Self::Low => "omzet laag",
            Self::Zero => "omzet onbelast/verlegd",
        }
    }

    /// The English name: `high-rate revenue`.
    #[must_use]
    pub fn english(self) -> &'static str {
        match self {
            Self::High => "high-rate revenue",
            Self::Low => "low-rate revenue",
            Self::Zero => "zero-rate/reverse-charge revenue",
        }
    }
}

/// Every rule a value can break, with the data its renderers need. Texts from SnelStart or
/// from an input echo only as data; no decision reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The field is missing or blank (`required`).
    Required,
    /// Longer than the SnelStart field `snelstart` holds (`too_long`).
    TooLong {
        /// SnelStart's maximum, in characters.
        max: usize,
        /// The value's length, in characters.
        actual: usize,
        /// SnelStart's name of the field, e.g. `factuurnummer`.
        snelstart: &'static str,
    },
    /// More decimals than allowed (`too_many_decimals`).
    TooManyDecimals {
        /// The most decimals allowed.
        max: u32,
    },
    /// A number outside `min..=max` (`out_of_range`).
    OutOfRange {
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
        /// The value given, as text.
        actual: String,
    },
    /// A number that must not be negative (`out_of_range`).
    Negative,
    /// A number that must be positive, such as a dagboek or grootboek number (`out_of_range`).
    NotPositive,
    /// A date outside SnelStart's range 1899-12-30 ..= 2400-12-31 (`out_of_range`).
    DateOutOfRange,
    /// A period whose end lies before its start (`out_of_range`).
    PeriodReversed {
        /// The start.
        from: String,
        /// The end.
        to: String,
    },
    /// A period longer than allowed (`out_of_range`).
    PeriodTooLong {
        /// Its length in days.
        days: i64,
        /// The most days allowed.
        max: i64,
    },
    /// Only final invoices are booked (`not_final`).
    NotFinal,
    /// Reverse-charge lines mixed with other VAT classes, SnelStart BOE-0062
    /// (`reverse_charge_mixed`).
    ReverseChargeMixed,
    /// No line with a non-zero amount: nothing to book (`skipped`).
    NothingToBook,
    /// A BTW code of the settings other than the one its band needs (`invalid_vat_code`).
    WrongVatCode {
        /// The band.
        band: Band,
        /// The code given.
        got: i64,
    },
    /// A BTW code SnelStart does not know (`invalid_vat_code`).
    UnknownVatCode {
        /// The band.
        band: Band,
        /// The code given.
        code: u8,
    },
    /// A koppelsleutel that is blank or too long (`invalid_key`).
    InvalidKey,
    /// A relatiecode with characters other than digits (`code_not_numeric`).
    CodeNotNumeric {
        /// The code given.
        code: String,
    },
    /// A relatiecode outside 1 ..= 2147483647 (`code_out_of_range`).
    CodeOutOfRange {
        /// The code given.
        code: String,
    },
    /// Not an ISO 3166-1 alpha-2 country code (`invalid_country`).
    InvalidCountry {
        /// The value given.
        country: String,
    },
    /// An IBAN with a wrong form or checksum (`invalid_iban`).
    InvalidIban {
        /// The value given.
        iban: String,
    },
    /// A VAT number of no valid form (`invalid_vat_number`).
    InvalidVatNumber {
        /// The value given.
        vat: String,
    },
    /// Street, postcode and city not all given (REL-0060) (`incomplete_address`).
    IncompleteAddress,
    /// An administratie code of other characters or length (`invalid_code`).
    InvalidAdministratieCode {
        /// The value given.
        code: String,
    },
    /// A resource id of other characters or length (`invalid_id`).
    InvalidId {
        /// The value given.
        id: String,
    },
    /// A body id that differs from the path's (`id_mismatch`).
    IdMismatch {
        /// The body's id.
        given: String,
        /// The path's id.
        path: String,
    },
    /// A connect `ReferenceKey` of other characters or length (`invalid_reference`).
    InvalidReference,
    /// A connect `ActionType` other than Create, Regenerate, Delete (`invalid_action`).
    InvalidAction,
    /// A page limit outside `1..=max` (`invalid_limit`).
    InvalidLimit {
        /// The largest limit.
        max: u32,
    },
    /// A relation id not in this administratie (`unknown_relation`).
    UnknownRelation {
        /// The id given.
        id: String,
    },
    /// A Beheerder id not in this administratie (`unknown_admin`).
    UnknownAdmin {
        /// The id given.
        id: String,
    },
    /// Not an e-mail address (`invalid_email`).
    InvalidEmail {
        /// The value given.
        email: String,
    },
    /// A password of the wrong length (`invalid_password`).
    InvalidPassword {
        /// The fewest characters.
        min: usize,
        /// The most characters.
        max: usize,
    },
    /// The koppeling has no settings yet (`not_configured`).
    NotConfigured,
    /// No koppelsleutel filled in (`key_missing`).
    KeyMissing,
    /// The stored koppelsleutel cannot be decrypted with any master key (`key_unusable`).
    KeyUnusable,
    /// SnelStart refuses the koppelsleutel (`key_refused`).
    KeyRefused,
    /// The koppelsleutel lacks the rights for the bookkeeping (`key_scope_missing`).
    KeyScopeMissing,
    /// SnelStart refuses the installation's subscription key (`subscription_key_refused`).
    SubscriptionKeyRefused,
    /// SnelStart could not be reached for the checks (`unavailable`).
    Unavailable,
    /// The grootboek set for a band does not exist in SnelStart (`ledger_missing`).
    LedgerMissing {
        /// The band.
        band: Band,
        /// The grootboek number.
        number: i32,
    },
    /// SnelStart has no grootboek with the band's function (`ledger_missing`).
    NoLedgerWithFunction {
        /// The band.
        band: Band,
    },
    /// The grootboek set for a band is inactive (`ledger_inactive`).
    LedgerInactive {
        /// The band.
        band: Band,
        /// The grootboek number.
        number: i32,
    },
    /// The only grootboeken with the band's function are inactive; `number` is the lowest
    /// (`ledger_inactive`).
    NoActiveLedgerWithFunction {
        /// The band.
        band: Band,
        /// The lowest inactive grootboek with the function.
        number: i32,
    },
    /// The grootboek set for a band has another grootboekfunctie (`ledger_wrong_function`).
    LedgerWrongFunction {
        /// The band.
        band: Band,
        /// The grootboek number.
        number: i32,
        /// Its function's SnelStart name (or `None` when it has none).
        actual: Option<String>,
    },
    /// The dagboek does not exist in SnelStart (`journal_missing`).
    JournalMissing {
        /// The dagboek number.
        number: i32,
    },
    /// The dagboek is of another soort than Verkoop (`journal_not_sales`).
    JournalNotSales {
        /// The dagboek number.
        number: i32,
        /// Its soort's SnelStart name (or `None` when unknown).
        soort: Option<String>,
    },
    /// The dagboek is inactive (`journal_inactive`).
    JournalInactive {
        /// The dagboek number.
        number: i32,
    },
    /// An invoice document SnelStart would refuse (issue 19); the code and the Dutch
    /// sentence are the document rule's, `detail` its English sentence.
    DocumentRefused {
        /// The document rule that is broken.
        rule: crate::document::DocumentRule,
        /// What is wrong, in English.
        detail: String,
    },
}

impl Rule {
    /// The stable snake_case code of the API.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong { .. } => "too_long",
            Self::TooManyDecimals { .. } => "too_many_decimals",
            Self::OutOfRange { .. }
            | Self::Negative
            | Self::NotPositive
            | Self::DateOutOfRange
            | Self::PeriodReversed { .. }
            | Self::PeriodTooLong { .. } => "out_of_range",
            Self::NotFinal => "not_final",
            Self::ReverseChargeMixed => "reverse_charge_mixed",
            Self::NothingToBook => "skipped",
            Self::WrongVatCode { .. } | Self::UnknownVatCode { .. } => "invalid_vat_code",
            Self::InvalidKey => "invalid_key",
            Self::CodeNotNumeric { .. } => "code_not_numeric",
            Self::CodeOutOfRange { .. } => "code_out_of_range",
            Self::InvalidCountry { .. } => "invalid_country",
            Self::InvalidIban { .. } => "invalid_iban",
            Self::InvalidVatNumber { .. } => "invalid_vat_number",
            Self::IncompleteAddress => "incomplete_address",
            Self::InvalidAdministratieCode { .. } => "invalid_code",
            Self::InvalidId { .. } => "invalid_id",
            Self::IdMismatch { .. } => "id_mismatch",
            Self::InvalidReference => "invalid_reference",
            Self::InvalidAction => "invalid_action",
            Self::InvalidLimit { .. } => "invalid_limit",
            Self::UnknownRelation { .. } => "unknown_relation",
            Self::UnknownAdmin { .. } => "unknown_admin",
            Self::InvalidEmail { .. } => "invalid_email",
            Self::InvalidPassword { .. } => "invalid_password",
            Self::NotConfigured => "not_configured",
            Self::KeyMissing => "key_missing",
            Self::KeyUnusable => "key_unusable",
            Self::KeyRefused => "key_refused",
            Self::KeyScopeMissing => "key_scope_missing",
            Self::SubscriptionKeyRefused => "subscription_key_refused",
            Self::Unavailable => "unavailable",
            Self::LedgerMissing { .. } | Self::NoLedgerWithFunction { .. } => "ledger_missing",
            Self::LedgerInactive { .. } | Self::NoActiveLedgerWithFunction { .. } => {
                "ledger_inactive"
            }
            Self::LedgerWrongFunction { .. } => "ledger_wrong_function",
            Self::JournalMissing { .. } => "journal_missing",
            Self::JournalNotSales { .. } => "journal_not_sales",
            Self::JournalInactive { .. } => "journal_inactive",
            Self::DocumentRefused { rule, .. } => rule.code(),
        }
    }
}

impl Problem {
    /// A problem on `field`.
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            field: field.into(),
            rule,
        }
    }

    /// The stable snake_case code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.rule.code()
    }

    /// Prefixes the field path, e.g. `address` + `.city`.
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }

    /// The English sentence of the API's `message`.
    #[must_use]
    pub fn message(&self) -> String {
        let field = self.field.as_str();
        match &self.rule {
            Rule::Required => format!("{field} must not be empty"),
            Rule::TooLong {
                max,
                actual,
                snelstart,
            } => format!(
                "{field} has {actual} characters; SnelStart's {snelstart} holds at most {max}"
            ),
            Rule::TooManyDecimals { max } => format!("{field} has more than {max} decimals"),
            Rule::OutOfRange { min, max, actual } => {
                format!("{field} is {actual}; it must be between {min} and {max}")
            }
            Rule::Negative => format!("{field} must not be negative"),
            Rule::NotPositive => format!("{field} must be a positive number"),
            Rule::DateOutOfRange => {
                format!("{field} must lie between 1899-12-30 and 2400-12-31 for SnelStart")
            }
            Rule::PeriodReversed { from, to } => {
                format!("to ({to}) must not be before from ({from})")
            }
            Rule::PeriodTooLong { days, max } => {
                format!("the period has {days} days; it may have at most {max}")
            }
            Rule::NotFinal => "only final invoices are sent to SnelStart".to_owned(),
            Rule::ReverseChargeMixed => "an invoice with reverse-charge (verlegd) lines may not contain lines of other VAT classes (SnelStart BOE-0062)".to_owned(),
            Rule::NothingToBook => "the invoice has no line with a non-zero amount; SnelStart refuses a booking without boekingsregels".to_owned(),
            Rule::WrongVatCode { band, got } => format!(
                "BTW code for {} must be {} ({}); only the SnelStart codes 12, 11 and 10 are possible, got {got}",
                band.key(),
                band.vat_code(),
                band.dutch()
            ),
            Rule::UnknownVatCode { band, code } => format!(
                "BTW code {code} for {} does not exist in SnelStart; use 12, 11 or 10",
                band.english()
            ),
            Rule::InvalidKey => {
                format!("{field} must be the koppelsleutel from web.snelstart.nl (1 to 4096 characters)")
            }
            Rule::CodeNotNumeric { code } => format!(
                "relation code {code:?} contains characters other than digits; SnelStart accepts numeric relation codes only"
            ),
            Rule::CodeOutOfRange { code } => format!(
                "relation code {code:?} is outside 1..=2147483647, the range of a SnelStart relatiecode"
            ),
            Rule::InvalidCountry { country } => {
                format!("country {country:?} must be an ISO 3166-1 alpha-2 code such as NL")
            }
            Rule::InvalidIban { iban } => format!("IBAN {iban:?} has a wrong format or checksum"),
            Rule::InvalidVatNumber { vat } => {
                format!("VAT number {vat:?} is not a valid format (e.g. NL123456789B01)")
            }
            Rule::IncompleteAddress => "an address needs street, postcode and city together; SnelStart refuses a partial address (REL-0060)".to_owned(),
            Rule::InvalidAdministratieCode { code } => format!(
                "administratie code {code:?} must be 1 to 40 characters of a-z, 0-9 and -"
            ),
            Rule::InvalidId { id } => format!(
                "{field} {id:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
            ),
            Rule::IdMismatch { given, path } => {
                format!("id {given:?} differs from the path's id {path:?}")
            }
            Rule::InvalidReference => {
                format!("{field} must be 1 to 500 URL-safe characters")
            }
            Rule::InvalidAction => format!("{field} must be Create, Regenerate or Delete"),
            Rule::InvalidLimit { max } => format!("{field} must be between 1 and {max}"),
            Rule::UnknownRelation { id } => {
                format!("relation {id} does not exist in this administratie")
            }
            Rule::UnknownAdmin { id } => {
                format!("Beheerder {id} does not exist in this administratie")
            }
            Rule::InvalidEmail { email } => {
                format!("{field} {email:?} is not a valid e-mail address")
            }
            Rule::InvalidPassword { min, max } => {
                format!("{field} must have {min} to {max} characters")
            }
            Rule::NotConfigured => {
                "the SnelStart koppeling has no settings yet; fill in the settings first".to_owned()
            }
            Rule::KeyMissing => "no koppelsleutel is filled in".to_owned(),
            Rule::KeyUnusable => "the stored koppelsleutel cannot be decrypted with any configured master key".to_owned(),
            Rule::KeyRefused => "SnelStart refuses the koppelsleutel".to_owned(),
            Rule::KeyScopeMissing => "the koppelsleutel gives no access to the bookkeeping in SnelStart (missing rights)".to_owned(),
            Rule::SubscriptionKeyRefused => "SnelStart refuses the subscription key of this koppeling installation (snelstart.subscription_key); this is for the operator, not the koppelsleutel".to_owned(),
            Rule::Unavailable => "SnelStart could not be reached for the checks".to_owned(),
            Rule::LedgerMissing { band, number } => format!(
                "grootboek {number} (set for {}, BTW code {}) does not exist in SnelStart",
                band.english(),
                band.vat_code()
            ),
            Rule::NoLedgerWithFunction { band } => format!(
                "SnelStart has no grootboek with grootboekfunctie {} for {}",
                band.vat_code(),
                band.english()
            ),
            Rule::LedgerInactive { band, number } => format!(
                "grootboek {number} (set for {}, BTW code {}) is inactive in SnelStart",
                band.english(),
                band.vat_code()
            ),
            Rule::NoActiveLedgerWithFunction { band, number } => format!(
                "SnelStart has no active grootboek with grootboekfunctie {} for {}; grootboek {number} has that function but is inactive",
                band.vat_code(),
                band.english()
            ),
            Rule::LedgerWrongFunction {
                band,
                number,
                actual,
            } => format!(
                "grootboek {number} has grootboekfunctie {} in SnelStart, not {} for {}",
                actual.as_deref().unwrap_or("none"),
                band.vat_code(),
                band.english()
            ),
            Rule::JournalMissing { number } => {
                format!("dagboek {number} does not exist in SnelStart")
            }
            Rule::JournalNotSales { number, soort } => format!(
                "dagboek {number} is a dagboek of soort {} in SnelStart, not a sales journal (Verkoop)",
                soort.as_deref().unwrap_or("unknown")
            ),
            Rule::JournalInactive { number } => {
                format!("dagboek {number} is inactive in SnelStart")
            }
            Rule::DocumentRefused { detail, .. } => detail.clone(),
        }
    }

    /// What to do, in English (the API's `hint`), when there is something specific to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        let field = self.field.as_str();
        Some(match &self.rule {
            Rule::TooLong { max, .. } => format!("shorten {field} to at most {max} characters"),
            Rule::OutOfRange { min, max, .. } => format!("choose a value from {min} to {max}"),
            Rule::ReverseChargeMixed => "split the invoice: one for the reverse-charge lines and one for the others".to_owned(),
            Rule::WrongVatCode { band, .. } => format!("fill in {}", band.vat_code()),
            Rule::CodeNotNumeric { .. } => "make the relation code numeric (digits only)".to_owned(),
            Rule::CodeOutOfRange { .. } => "choose a relation code from 1 to 2147483647".to_owned(),
            Rule::InvalidIban { .. } => "check the IBAN".to_owned(),
            Rule::InvalidVatNumber { .. } => "check the VAT number: a country code followed by digits/letters, without spaces or dots".to_owned(),
            Rule::IncompleteAddress => "fill in street, postcode and city, or leave the address empty".to_owned(),
            Rule::KeyMissing | Rule::KeyRefused | Rule::KeyUnusable => "generate a koppelsleutel on web.snelstart.nl and fill it in under Instellingen".to_owned(),
            Rule::KeyScopeMissing => "generate a new koppelsleutel on web.snelstart.nl with access to bookkeeping and relations".to_owned(),
            Rule::SubscriptionKeyRefused => "contact the operator of the koppeling; the koppelsleutel need not be replaced".to_owned(),
            Rule::Unavailable => "activate again later".to_owned(),
            Rule::LedgerMissing { band, number } => format!(
                "create grootboek {number} in SnelStart or change the revenue ledger for {}",
                band.english()
            ),
            Rule::NoLedgerWithFunction { band } => format!(
                "create a revenue ledger with grootboekfunctie {} in SnelStart",
                band.vat_code()
            ),
            Rule::LedgerInactive { number, .. }
            | Rule::NoActiveLedgerWithFunction { number, .. } => {
                format!("make grootboek {number} active again in SnelStart")
            }
            Rule::LedgerWrongFunction { band, .. } => format!(
                "choose a revenue ledger with grootboekfunctie {}",
                band.vat_code()
            ),
            Rule::JournalMissing { .. } => {
                "fill in the number of the sales journal, usually 1300".to_owned()
            }
            Rule::JournalNotSales { .. } => "choose a dagboek of soort Verkoop".to_owned(),
            Rule::JournalInactive { number } => {
                format!("make dagboek {number} active again in SnelStart")
            }
            Rule::DocumentRefused { .. } => return None,
            Rule::Required
            | Rule::TooManyDecimals { .. }
            | Rule::Negative
            | Rule::NotPositive
            | Rule::DateOutOfRange
            | Rule::PeriodReversed { .. }
            | Rule::PeriodTooLong { .. }
            | Rule::NotFinal
            | Rule::NothingToBook
            | Rule::UnknownVatCode { .. }
            | Rule::InvalidKey
            | Rule::InvalidCountry { .. }
            | Rule::InvalidAdministratieCode { .. }
            | Rule::InvalidId { .. }
            | Rule::IdMismatch { .. }
            | Rule::InvalidReference
            | Rule::InvalidAction
            | Rule::InvalidLimit { .. }
            | Rule::UnknownRelation { .. }
            | Rule::UnknownAdmin { .. }
            | Rule::InvalidEmail { .. }
            | Rule::InvalidPassword { .. }
            | Rule::NotConfigured => return None,
        })
    }

    /// The Dutch sentence a Beheerder reads (screens, e-mails); starts with a capital and
    /// ends with a full stop.
    #[must_use]
    pub fn dutch(&self) -> String {
        let label = field_label(&self.field);
        let text = match &self.rule {
            Rule::Required => format!("{label} is verplicht"),
            Rule::TooLong { max, actual, .. } => format!(
                "{label} is te lang voor SnelStart: {actual} tekens, maximaal {max}"
            ),
            Rule::TooManyDecimals { max } => {
                format!("{label} heeft meer dan {max} decimalen")
            }
            Rule::OutOfRange { min, max, actual } => {
                format!("{label} is {actual}; dat moet tussen {min} en {max} liggen")
            }
            Rule::Negative => format!("{label} mag niet negatief zijn"),
            Rule::NotPositive => match self.field.as_str() {
                "sales_journal_code" => {
                    "De Verkoopboek code moet een positief dagboeknummer zijn, bijvoorbeeld 1300".to_owned()
                }
                _ => format!("{label} moet een positief nummer zijn"),
            },
            Rule::DateOutOfRange => {
                format!("{label} moet tussen 30-12-1899 en 31-12-2400 liggen voor SnelStart")
            }
            Rule::PeriodReversed { from, to } => {
                format!("De periode eindigt ({to}) voor zij begint ({from})")
            }
            Rule::PeriodTooLong { days, max } => {
                format!("De periode heeft {days} dagen; zij mag er hoogstens {max} hebben")
            }
            Rule::NotFinal => "Alleen definitieve facturen gaan naar SnelStart".to_owned(),
            Rule::ReverseChargeMixed => "Een factuur met verlegde btw mag geen regels met een ander btw-tarief bevatten (SnelStart BOE-0062)".to_owned(),
            Rule::NothingToBook => "De factuur heeft geen regel met een bedrag; SnelStart neemt geen boeking zonder boekingsregels aan".to_owned(),
            Rule::WrongVatCode { band, .. } => format!(
                "De BTW code voor {} moet {} zijn; andere BTW codes dan 12, 11 en 10 zijn niet mogelijk",
                band.dutch(),
                band.vat_code()
            ),
            Rule::UnknownVatCode { band, code } => format!(
                "BTW code {code} voor {} bestaat niet in SnelStart; gebruik 12 (omzet hoog), 11 (omzet laag) of 10 (omzet onbelast/verlegd) bij Instellingen",
                band.dutch()
            ),
            Rule::InvalidKey => {
                "Vul de koppelsleutel in die u op web.snelstart.nl heeft gegenereerd".to_owned()
            }
            Rule::CodeNotNumeric { code } => format!(
                "Relatiecode \"{code}\" bevat letters of andere tekens: relatiecodes met letters worden niet geaccepteerd door SnelStart. Maak de relatiecode numeriek (alleen cijfers) om met SnelStart te synchroniseren"
            ),
            Rule::CodeOutOfRange { code } => format!(
                "Relatiecode \"{code}\" valt buiten 1 tot en met 2147483647, het bereik van een SnelStart relatiecode"
            ),
            Rule::InvalidCountry { country } => format!(
                "Het land \"{country}\" moet een ISO-landcode van twee letters zijn, zoals NL"
            ),
            Rule::InvalidIban { iban } => {
                format!("Het IBAN-nummer \"{iban}\" heeft een verkeerde vorm of controlegetal")
            }
            Rule::InvalidVatNumber { vat } => format!(
                "Het btw-nummer \"{vat}\" heeft geen geldige vorm (bijvoorbeeld NL123456789B01)"
            ),
            Rule::IncompleteAddress => "Het adres is onvolledig: SnelStart wil straat, postcode en plaats samen (REL-0060)".to_owned(),
            Rule::InvalidAdministratieCode { code } => format!(
                "De administratiecode \"{code}\" moet 1 tot 40 tekens a-z, 0-9 en - hebben"
            ),
            Rule::InvalidId { id } => format!(
                "{label} \"{id}\" moet 1 tot 64 tekens A-Z, a-z, 0-9, '.', '_' en '-' hebben"
            ),
            Rule::IdMismatch { given, path } => {
                format!("De id \"{given}\" wijkt af van de id \"{path}\" in het adres")
            }
            Rule::InvalidReference => format!("{label} moet 1 tot 500 URL-veilige tekens hebben"),
            Rule::InvalidAction => {
                format!("{label} moet Create, Regenerate of Delete zijn")
            }
            Rule::InvalidLimit { max } => format!("{label} moet tussen 1 en {max} liggen"),
            Rule::UnknownRelation { id } => {
                format!("Relatie {id} bestaat niet in deze administratie")
            }
            Rule::UnknownAdmin { .. } => {
                "Deze Beheerder bestaat niet in deze administratie".to_owned()
            }
            Rule::InvalidEmail { email } => {
                format!("\"{email}\" is geen geldig e-mailadres")
            }
            Rule::InvalidPassword { min, max } => {
                format!("Het wachtwoord moet {min} tot {max} tekens hebben")
            }
            Rule::NotConfigured => {
                "De SnelStart koppeling is nog niet ingesteld; vul eerst Instellingen in".to_owned()
            }
            Rule::KeyMissing => "Er is geen koppelsleutel ingevuld; genereer er een op web.snelstart.nl en vul die in bij Instellingen".to_owned(),
            Rule::KeyUnusable => "Sleutel onbruikbaar: de opgeslagen koppelsleutel kan met geen van de ingestelde master keys worden ontsleuteld; vul de koppelsleutel opnieuw in bij Instellingen".to_owned(),
            Rule::KeyRefused => "De koppelsleutel wordt door SnelStart geweigerd; genereer een nieuwe sleutel op web.snelstart.nl en vul die in bij Instellingen".to_owned(),
            Rule::KeyScopeMissing => "De koppelsleutel geeft SnelStart geen toegang tot de boekhouding (ontbrekende rechten); koppel de administratie opnieuw op web.snelstart.nl en vul de nieuwe sleutel in bij Instellingen".to_owned(),
            Rule::SubscriptionKeyRefused => "SnelStart weigert de subscription key van deze koppeling-installatie; dit lost de beheerder van de koppeling op (snelstart.subscription_key), niet uw koppelsleutel".to_owned(),
            Rule::Unavailable => {
                "SnelStart was niet bereikbaar voor de controles; kies later Activeren".to_owned()
            }
            Rule::LedgerMissing { band, number } => format!(
                "Grootboek {number} (ingesteld voor {}, BTW code {}) bestaat niet in SnelStart; maak het aan in SnelStart of kies bij Instellingen een ander omzetgrootboek",
                band.dutch(),
                band.vat_code()
            ),
            Rule::NoLedgerWithFunction { band } => format!(
                "SnelStart heeft geen grootboek met grootboekfunctie {} voor {}; maak er een aan in SnelStart of vul bij Instellingen het nummer van het omzetgrootboek in",
                band.vat_code(),
                band.dutch()
            ),
            Rule::LedgerInactive { band, number } => format!(
                "Grootboek {number} (ingesteld voor {}, BTW code {}) staat in SnelStart op non-actief; zet het in SnelStart op actief of kies bij Instellingen een ander omzetgrootboek",
                band.dutch(),
                band.vat_code()
            ),
            Rule::NoActiveLedgerWithFunction { band, number } => format!(
                "SnelStart heeft geen actief grootboek met grootboekfunctie {} voor {}; grootboek {number} heeft die functie maar staat op non-actief. Zet het in SnelStart op actief of vul bij Instellingen een ander omzetgrootboek in",
                band.vat_code(),
                band.dutch()
            ),
            Rule::LedgerWrongFunction {
                band,
                number,
                actual,
            } => format!(
                "Grootboek {number} heeft in SnelStart de grootboekfunctie {}, niet {} voor {}; geef het in SnelStart die functie of kies bij Instellingen een ander omzetgrootboek",
                actual.as_deref().unwrap_or("geen"),
                band.vat_code(),
                band.dutch()
            ),
            Rule::JournalMissing { number } => format!(
                "Dagboek {number} (Verkoopboek code) bestaat niet in SnelStart; vul bij Instellingen het nummer van het verkoopdagboek in (meestal 1300)"
            ),
            Rule::JournalNotSales { number, soort } => format!(
                "Dagboek {number} is in SnelStart een dagboek van soort {}, geen verkoopdagboek; vul bij Instellingen het nummer van een verkoopdagboek in (meestal 1300)",
                soort.as_deref().unwrap_or("onbekend")
            ),
            Rule::JournalInactive { number } => format!(
                "Dagboek {number} staat in SnelStart op non-actief; zet het in SnelStart op actief of vul bij Instellingen een ander verkoopdagboek in"
            ),
            Rule::DocumentRefused { rule, .. } => rule.dutch().to_owned(),
        };
        sentence(&text)
    }

    /// What to do, in Dutch ("Wat te doen"), when there is something specific to say.
    #[must_use]
    pub fn dutch_hint(&self) -> Option<String> {
        let label = field_label(&self.field);
        Some(match &self.rule {
            Rule::TooLong { max, .. } => {
                format!("maak {} korter: hoogstens {max} tekens", lower_first(&label))
            }
            Rule::OutOfRange { min, max, .. } => {
                format!("kies een waarde van {min} tot en met {max}")
            }
            Rule::ReverseChargeMixed => "splits de factuur: één factuur voor de verlegde regels en één voor de overige".to_owned(),
            Rule::WrongVatCode { band, .. } => {
                format!("vul {} in voor {}", band.vat_code(), band.dutch())
            }
            Rule::CodeNotNumeric { .. } => "maak de relatiecode numeriek (alleen cijfers) en vink SnelStart daarna opnieuw aan".to_owned(),
            Rule::CodeOutOfRange { .. } => "kies een relatiecode tussen 1 en 2147483647".to_owned(),
            Rule::InvalidIban { .. } => "controleer het IBAN-nummer".to_owned(),
            Rule::InvalidVatNumber { .. } => "controleer het btw-nummer: landcode gevolgd door cijfers/letters, zonder spaties of punten".to_owned(),
            Rule::IncompleteAddress => "vul straat, postcode en plaats aan, of laat het adres helemaal leeg".to_owned(),
            Rule::KeyMissing | Rule::KeyRefused => "genereer een nieuwe koppelsleutel op web.snelstart.nl".to_owned(),
            Rule::KeyUnusable => "vul de koppelsleutel opnieuw in bij Instellingen (genereer zo nodig een nieuwe op web.snelstart.nl)".to_owned(),
            Rule::KeyScopeMissing => "genereer een nieuwe koppelsleutel op web.snelstart.nl met toegang tot boekhouden en relaties".to_owned(),
            Rule::SubscriptionKeyRefused => "neem contact op met de beheerder van de koppeling; uw koppelsleutel hoeft niet te worden vervangen".to_owned(),
            Rule::Unavailable => "kies later opnieuw Activeren".to_owned(),
            Rule::LedgerMissing { band, number } => format!(
                "maak grootboek {number} aan in SnelStart of wijzig het omzetgrootboek voor {}",
                band.dutch()
            ),
            Rule::NoLedgerWithFunction { band } => format!(
                "maak in SnelStart een omzetgrootboek met grootboekfunctie {} aan",
                band.vat_code()
            ),
            Rule::LedgerInactive { number, .. }
            | Rule::NoActiveLedgerWithFunction { number, .. } => {
                format!("zet grootboek {number} in SnelStart weer op actief")
            }
            Rule::LedgerWrongFunction { band, .. } => format!(
                "kies een omzetgrootboek met grootboekfunctie {}",
                band.vat_code()
            ),
            Rule::JournalMissing { .. } => {
                "vul het nummer van het verkoopdagboek in, meestal 1300".to_owned()
            }
            Rule::JournalNotSales { .. } => "kies een dagboek van soort Verkoop".to_owned(),
            Rule::JournalInactive { number } => {
                format!("zet dagboek {number} in SnelStart weer op actief")
            }
            Rule::DocumentRefused { .. } => return None,
            Rule::Required
            | Rule::TooManyDecimals { .. }
            | Rule::Negative
            | Rule::NotPositive
            | Rule::DateOutOfRange
            | Rule::PeriodReversed { .. }
            | Rule::PeriodTooLong { .. }
            | Rule::NotFinal
            | Rule::NothingToBook
            | Rule::UnknownVatCode { .. }
            | Rule::InvalidKey
            | Rule::InvalidCountry { .. }
            | Rule::InvalidAdministratieCode { .. }
            | Rule::InvalidId { .. }
            | Rule::IdMismatch { .. }
            | Rule::InvalidReference
            | Rule::InvalidAction
            | Rule::InvalidLimit { .. }
            | Rule::UnknownRelation { .. }
            | Rule::UnknownAdmin { .. }
            | Rule::InvalidEmail { .. }
            | Rule::InvalidPassword { .. }
            | Rule::NotConfigured => return None,
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

impl std::error::Error for Problem {}

/// Joins problems into one English sentence list (the API).
#[must_use]
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Joins problems into Dutch sentences (what a Beheerder reads).
#[must_use]
pub fn describe_dutch(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::dutch)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` with its first letter upper-case and a closing full stop.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The Dutch label of a field path, e.g. `Het telefoonnummer`, `Regel 2: de prijs per stuk`.
#[must_use]
pub fn field_label(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("relation.") {
        return format!("Bij de relatie: {}", lower_first(&field_label(rest)));
    }
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((index, tail)) = rest.split_once(']')
        && let Ok(i) = index.parse::<usize>()
    {
        let what = match tail.trim_start_matches('.') {
            "quantity" => "het aantal".to_owned(),
            "unit_price" => "de prijs per stuk".to_owned(),
            "description" => "de omschrijving".to_owned(),
            "vat" => "het btw-tarief".to_owned(),
            "" => "de regel".to_owned(),
            other => format!("het veld {other}"),
        };
        return format!("Regel {}: {what}", i + 1);
    }
    match field {
        "name" => "De naam".to_owned(),
        "code" => "De relatiecode".to_owned(),
        "number" => "Het factuurnummer".to_owned(),
        "date" => "De factuurdatum".to_owned(),
        "status" => "De status".to_owned(),
        "lines" => "De regels".to_owned(),
        "payment_term_days" => "De betalingstermijn (dagen)".to_owned(),
        "address" => "Het adres".to_owned(),
        "address.street" => "De straat met huisnummer".to_owned(),
        "address.postcode" => "De postcode".to_owned(),
        "address.city" => "De plaats".to_owned(),
        "address.country" => "Het land".to_owned(),
        "phone" => "Het telefoonnummer".to_owned(),
        "email" => "Het e-mailadres".to_owned(),
        "password" => "Het wachtwoord".to_owned(),
        "coc_number" => "Het KvK-nummer".to_owned(),
        "vat_number" => "Het btw-nummer".to_owned(),
        "iban" => "Het IBAN-nummer".to_owned(),
        "key" => "De koppelsleutel".to_owned(),
        "sales_journal_code" => "De Verkoopboek code".to_owned(),
        "vat_codes.high" => "De BTW code omzet hoog".to_owned(),
        "vat_codes.low" => "De BTW code omzet laag".to_owned(),
        "vat_codes.zero" => "De BTW code omzet onbelast/verlegd".to_owned(),
        "revenue_ledgers.high" => "Het omzetgrootboek hoog".to_owned(),
        "revenue_ledgers.low" => "Het omzetgrootboek laag".to_owned(),
        "revenue_ledgers.zero" => "Het omzetgrootboek onbelast/verlegd".to_owned(),
        "start_date" => "De startdatum".to_owned(),
        "notify_admin_id" => "De Beheerder voor meldingen".to_owned(),
        "relation_id" => "De relatie".to_owned(),
        "from" => "Het begin van de periode".to_owned(),
        "to" => "Het einde van de periode".to_owned(),
        "limit" => "Het aantal per pagina".to_owned(),
        other => format!("Het veld {other}"),
    }
}

/// Checks that `value` has at most `max` characters (SnelStart's `snelstart` field).
pub(crate) fn check_len(
    problems: &mut Vec<Problem>,
    field: &str,
    value: &str,
    max: usize,
    snelstart: &'static str,
) {
    let actual = value.chars().count();
    if actual > max {
        problems.push(Problem::new(
            field,
            Rule::TooLong {
                max,
                actual,
                snelstart,
            },
        ));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One problem per variant. The exhaustive match below makes a new variant fail to
    /// compile until it is added here (and so rendered and checked).
    pub(crate) fn every_rule() -> Vec<Problem> {
        let all = vec![
            Problem::new("name", Rule::Required),
            Problem::new(
                "number",
                Rule::TooLong {
                    max: 25,
                    actual: 31,
                    snelstart: "factuurnummer",
                },
            ),
            Problem::new("lines[0].unit_price", Rule::TooManyDecimals { max: 4 }),
            Problem::new(
                "payment_term_days",
                Rule::OutOfRange {
                    min: 0,
                    max: 999,
                    actual: "1000".into(),
                },
            ),
            Problem::new("payment_term_days", Rule::Negative),
            Problem::new("sales_journal_code", Rule::NotPositive),
            Problem::new("revenue_ledgers.low", Rule::NotPositive),
            Problem::new("date", Rule::DateOutOfRange),
            Problem::new(
                "to",
                Rule::PeriodReversed {
                    from: "2026-02-01".into(),
                    to: "2026-01-01".into(),
                },
            ),
            Problem::new(
                "from",
                Rule::PeriodTooLong {
                    days: 400,
                    max: 366,
                },
            ),
            Problem::new("status", Rule::NotFinal),
            Problem::new("lines", Rule::ReverseChargeMixed),
            Problem::new("lines", Rule::NothingToBook),
            Problem::new(
                "vat_codes.low",
                Rule::WrongVatCode {
                    band: Band::Low,
                    got: 12,
                },
            ),
            Problem::new(
                "vat_codes.zero",
                Rule::UnknownVatCode {
                    band: Band::Zero,
                    code: 9,
                },
            ),
            Problem::new("key", Rule::InvalidKey),
            Problem::new("code", Rule::CodeNotNumeric { code: "A1".into() }),
            Problem::new(
                "code",
                Rule::CodeOutOfRange {
                    code: "99999999999".into(),
                },
            ),
            Problem::new(
                "address.country",
                Rule::InvalidCountry {
                    country: "XX1".into(),
                },
            ),
            Problem::new(
                "iban",
                Rule::InvalidIban {
                    iban: "NL00BANK0".into(),
                },
            ),
            Problem::new(
                "vat_number",
                Rule::InvalidVatNumber {
                    vat: "NL 12".into(),
                },
            ),
            Problem::new("address", Rule::IncompleteAddress),
            Problem::new(
                "administratie",
                Rule::InvalidAdministratieCode { code: "A B".into() },
            ),
            Problem::new("relation_id", Rule::InvalidId { id: "a b".into() }),
            Problem::new(
                "id",
                Rule::IdMismatch {
                    given: "a".into(),
                    path: "b".into(),
                },
            ),
            Problem::new("ReferenceKey", Rule::InvalidReference),
            Problem::new("ActionType", Rule::InvalidAction),
            Problem::new("limit", Rule::InvalidLimit { max: 1000 }),
            Problem::new("relation_id", Rule::UnknownRelation { id: "r9".into() }),
            Problem::new("notify_admin_id", Rule::UnknownAdmin { id: "b9".into() }),
            Problem::new(
                "email",
                Rule::InvalidEmail {
                    email: "nope".into(),
                },
            ),
            Problem::new("password", Rule::InvalidPassword { min: 12, max: 1024 }),
            Problem::new("settings", Rule::NotConfigured),
            Problem::new("key", Rule::KeyMissing),
            Problem::new("key", Rule::KeyUnusable),
            Problem::new("key", Rule::KeyRefused),
            Problem::new("key", Rule::KeyScopeMissing),
            Problem::new("subscription_key", Rule::SubscriptionKeyRefused),
            Problem::new("snelstart", Rule::Unavailable),
            Problem::new(
                "revenue_ledgers.high",
                Rule::LedgerMissing {
                    band: Band::High,
                    number: 8000,
                },
            ),
            Problem::new(
                "vat_codes.high",
                Rule::NoLedgerWithFunction { band: Band::High },
            ),
            Problem::new(
                "revenue_ledgers.high",
                Rule::LedgerInactive {
                    band: Band::High,
                    number: 8000,
                },
            ),
            Problem::new(
                "vat_codes.low",
                Rule::NoActiveLedgerWithFunction {
                    band: Band::Low,
                    number: 8010,
                },
            ),
            Problem::new(
                "revenue_ledgers.low",
                Rule::LedgerWrongFunction {
                    band: Band::Low,
                    number: 8010,
                    actual: None,
                },
            ),
            Problem::new("sales_journal_code", Rule::JournalMissing { number: 1300 }),
            Problem::new(
                "sales_journal_code",
                Rule::JournalNotSales {
                    number: 1300,
                    soort: None,
                },
            ),
            Problem::new("sales_journal_code", Rule::JournalInactive { number: 1300 }),
        ];
        let mut all = all;
        {
            use crate::document::DocumentRule as D;
            for rule in [
                D::FilenameRequired,
                D::FilenameSpaces,
                D::FilenameTooLong,
                D::FilenameForbidden,
                D::Empty,
                D::TooLarge,
                D::NotPdf,
                D::NotUbl,
            ] {
                // Exhaustive on purpose: a new document rule must be listed above.
                match rule {
                    D::FilenameRequired
                    | D::FilenameSpaces
                    | D::FilenameTooLong
                    | D::FilenameForbidden
                    | D::Empty
                    | D::TooLarge
                    | D::NotPdf
                    | D::NotUbl => {}
                }
                all.push(Problem::new(
                    "content",
                    Rule::DocumentRefused {
                        rule,
                        detail: "the document is refused".to_owned(),
                    },
                ));
            }
        }
        for p in &all {
            // Exhaustive on purpose: a new variant must be listed above.
            match p.rule {
                Rule::Required
                | Rule::TooLong { .. }
                | Rule::TooManyDecimals { .. }
                | Rule::OutOfRange { .. }
                | Rule::Negative
                | Rule::NotPositive
                | Rule::DateOutOfRange
                | Rule::PeriodReversed { .. }
                | Rule::PeriodTooLong { .. }
                | Rule::NotFinal
                | Rule::ReverseChargeMixed
                | Rule::NothingToBook
                | Rule::WrongVatCode { .. }
                | Rule::UnknownVatCode { .. }
                | Rule::InvalidKey
                | Rule::CodeNotNumeric { .. }
                | Rule::CodeOutOfRange { .. }
                | Rule::InvalidCountry { .. }
                | Rule::InvalidIban { .. }
                | Rule::InvalidVatNumber { .. }
                | Rule::IncompleteAddress
                | Rule::InvalidAdministratieCode { .. }
                | Rule::InvalidId { .. }
                | Rule::IdMismatch { .. }
                | Rule::InvalidReference
                | Rule::InvalidAction
                | Rule::InvalidLimit { .. }
                | Rule::UnknownRelation { .. }
                | Rule::UnknownAdmin { .. }
                | Rule::InvalidEmail { .. }
                | Rule::InvalidPassword { .. }
                | Rule::NotConfigured
                | Rule::KeyMissing
                | Rule::KeyUnusable
                | Rule::KeyRefused
                | Rule::KeyScopeMissing
                | Rule::SubscriptionKeyRefused
                | Rule::Unavailable
                | Rule::LedgerMissing { .. }
                | Rule::NoLedgerWithFunction { .. }
                | Rule::LedgerInactive { .. }
                | Rule::NoActiveLedgerWithFunction { .. }
                | Rule::LedgerWrongFunction { .. }
                | Rule::JournalMissing { .. }
                | Rule::JournalNotSales { .. }
                | Rule::JournalInactive { .. }
                | Rule::DocumentRefused { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_rule_reads_in_dutch_without_english() {
        for p in every_rule() {
            let text = p.dutch();
            crate::english::assert_dutch(&text);
            if let Some(hint) = p.dutch_hint() {
                crate::english::assert_dutch(&hint);
            }
        }
    }

    #[test]
    fn every_rule_has_its_stable_code_and_an_english_message() {
        for p in every_rule() {
            assert!(!p.code().is_empty());
            assert!(!p.message().is_empty());
            assert_ne!(p.message(), p.dutch());
        }
    }

    #[test]
    fn a_too_long_value_is_said_in_both_languages_with_its_limit() {
        let p = Problem::new(
            "number",
            Rule::TooLong {
                max: 25,
                actual: 31,
                snelstart: "factuurnummer",
            },
        );
        assert_eq!(p.code(), "too_long");
        assert_eq!(
            p.message(),
            "number has 31 characters; SnelStart's factuurnummer holds at most 25"
        );
        assert_eq!(p.hint().unwrap(), "shorten number to at most 25 characters");
        assert_eq!(
            p.dutch(),
            "Het factuurnummer is te lang voor SnelStart: 31 tekens, maximaal 25."
        );
        assert_eq!(
            p.dutch_hint().unwrap(),
            "maak het factuurnummer korter: hoogstens 25 tekens"
        );
    }

    #[test]
    fn a_nested_field_is_prefixed() {
        let p = Problem::new("city", Rule::Required).under("address");
        assert_eq!(p.field, "address.city");
        assert_eq!(p.dutch(), "De plaats is verplicht.");
        let p = Problem::new("[0].unit_price", Rule::TooManyDecimals { max: 4 }).under("lines");
        assert_eq!(
            p.dutch(),
            "Regel 1: de prijs per stuk heeft meer dan 4 decimalen."
        );
    }
}

#[cfg(test)]
mod rejection_tests {
    use crate::ports::{AccountingError, Rejection};

    /// Every rejection; the exhaustive match makes a new variant fail to compile until it
    /// is listed (and so rendered and checked).
    fn every_rejection() -> Vec<Rejection> {
        let code = || "BOE-0042".to_owned();
        let all = vec![
            Rejection::DuplicateInvoiceNumber,
            Rejection::RelatiecodeTaken,
            Rejection::Unbalanced,
            Rejection::PeriodClosed { code: code() },
            Rejection::DateTooOld,
            Rejection::LedgerUnusable { code: code() },
            Rejection::RelatieInactive,
            Rejection::RelatieNotKlant,
            Rejection::VatNumberRefused { code: code() },
            Rejection::RelatieRefused { code: code() },
            Rejection::RequestNotBuilt,
            Rejection::CountryUnknown {
                country: "XX".into(),
            },
            Rejection::LedgerUnresolved,
            Rejection::FileNameMissing,
            Rejection::FileNameCharacter,
            Rejection::FileNameTooLong,
            Rejection::DocumentTooLarge {
                code: "BLG-0013".into(),
            },
            Rejection::DocumentEmpty {
                code: "BLG-0011".into(),
            },
            Rejection::BookingGone,
            Rejection::Other { code: None },
        ];
        for r in &all {
            match r {
                Rejection::DuplicateInvoiceNumber
                | Rejection::RelatiecodeTaken
                | Rejection::Unbalanced
                | Rejection::PeriodClosed { .. }
                | Rejection::DateTooOld
                | Rejection::LedgerUnusable { .. }
                | Rejection::RelatieInactive
                | Rejection::RelatieNotKlant
                | Rejection::VatNumberRefused { .. }
                | Rejection::RelatieRefused { .. }
                | Rejection::RequestNotBuilt
                | Rejection::CountryUnknown { .. }
                | Rejection::LedgerUnresolved
                | Rejection::FileNameMissing
                | Rejection::FileNameCharacter
                | Rejection::FileNameTooLong
                | Rejection::DocumentTooLarge { .. }
                | Rejection::DocumentEmpty { .. }
                | Rejection::BookingGone
                | Rejection::Other { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_rejection_reads_in_dutch_without_english() {
        for rejection in every_rejection() {
            crate::english::assert_dutch(rejection.dutch());
            crate::english::assert_dutch(rejection.dutch_hint());
            let error = AccountingError::Rejected {
                rejection,
                message: "SnelStart's own words".into(),
            };
            // The Beheerder's sentence leaves SnelStart's (possibly English) text out.
            crate::english::assert_dutch(&error.dutch());
        }
        for error in [
            AccountingError::Transient {
                retry_after: None,
                message: "the connection was refused".into(),
            },
            AccountingError::UnknownOutcome {
                message: "the write timed out".into(),
            },
            AccountingError::Auth {
                credential: crate::ports::Credential::ConnectionKey,
                message: "the token was refused".into(),
            },
        ] {
            crate::english::assert_dutch(&error.dutch());
        }
    }
}
