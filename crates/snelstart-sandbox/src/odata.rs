//! OData v3 query options as SnelStart's ASP.NET backend applies them: `$filter` (recursive-descent parser, typed against the model), `$top`, `$skip`, `$orderby`, `$select`.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::json::{parse_date, parse_decimal};

// ---------------------------------------------------------------------------------------------
// Schemas: the filterable properties of each model (UpperCamelCase name → camelCase JSON key).

#[derive(Clone, Copy)]
pub enum Kind {
    Int,
    Dec,
    Dbl,
    Str,
    Bool,
    Guid,
    Date,
    Obj(&'static Schema),
    StrColl,
    ObjColl(&'static Schema),
}

pub struct Prop {
    pub name: &'static str,
    pub key: &'static str,
    pub kind: Kind,
}

pub struct Schema {
    pub type_name: &'static str,
    pub props: &'static [Prop],
}

const fn p(name: &'static str, key: &'static str, kind: Kind) -> Prop {
    Prop { name, key, kind }
}

pub static REF: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.IdentifierModel",
    props: &[p("Id", "id", Kind::Guid)],
};

static ADRES: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.AdresModel",
    props: &[
        p("Contactpersoon", "contactpersoon", Kind::Str),
        p("Straat", "straat", Kind::Str),
        p("Postcode", "postcode", Kind::Str),
        p("Plaats", "plaats", Kind::Str),
        p("Land", "land", Kind::Obj(&REF)),
    ],
};

static EMAIL_VERSTUREN: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.EmailVersturenModel",
    props: &[
        p("ShouldSend", "shouldSend", Kind::Bool),
        p("Email", "email", Kind::Str),
        p("CcEmail", "ccEmail", Kind::Str),
    ],
};

static DOCUMENT: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Documenten.DocumentModel",
    props: &[
        p("ParentIdentifier", "parentIdentifier", Kind::Guid),
        p("FileName", "fileName", Kind::Str),
        p("ReadOnly", "readOnly", Kind::Bool),
        p("Id", "id", Kind::Guid),
    ],
};

static EXTRA_VELD: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.ExtraVeldRelatieModel",
    props: &[
        p("Naam", "naam", Kind::Str),
        p("Waarde", "waarde", Kind::Str),
    ],
};

static RGS: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Grootboeken.RgsModel",
    props: &[
        p("Versie", "versie", Kind::Str),
        p("RgsCode", "rgsCode", Kind::Str),
    ],
};

pub static RELATIE: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel",
    props: &[
        p("Relatiesoort", "relatiesoort", Kind::StrColl),
        p("ModifiedOn", "modifiedOn", Kind::Date),
        p("Relatiecode", "relatiecode", Kind::Int),
        p("Naam", "naam", Kind::Str),
        p("VestigingsAdres", "vestigingsAdres", Kind::Obj(&ADRES)),
        p(
            "CorrespondentieAdres",
            "correspondentieAdres",
            Kind::Obj(&ADRES),
        ),
        p("Telefoon", "telefoon", Kind::Str),
        p("MobieleTelefoon", "mobieleTelefoon", Kind::Str),
        p("Fax", "fax", Kind::Str),
        p("Email", "email", Kind::Str),
        p("BtwNummer", "btwNummer", Kind::Str),
        p("Factuurkorting", "factuurkorting", Kind::Dbl),
        p("Krediettermijn", "krediettermijn", Kind::Int),
        p("Bankieren", "bankieren", Kind::Bool),
        p("Nonactief", "nonactief", Kind::Bool),
        p("KredietLimiet", "kredietLimiet", Kind::Dbl),
        p("Memo", "memo", Kind::Str),
        p("KvkNummer", "kvkNummer", Kind::Str),
        p("Oin", "oin", Kind::Str),
        p("WebsiteUrl", "websiteUrl", Kind::Str),
        p("Aanmaningsoort", "aanmaningsoort", Kind::Str),
        p(
            "OfferteEmailVersturen",
            "offerteEmailVersturen",
            Kind::Obj(&EMAIL_VERSTUREN),
        ),
        p(
            "BevestigingsEmailVersturen",
            "bevestigingsEmailVersturen",
            Kind::Obj(&EMAIL_VERSTUREN),
        ),
        p(
            "FactuurEmailVersturen",
            "factuurEmailVersturen",
            Kind::Obj(&EMAIL_VERSTUREN),
        ),
        p(
            "AanmaningEmailVersturen",
            "aanmaningEmailVersturen",
            Kind::Obj(&EMAIL_VERSTUREN),
        ),
        p(
            "OfferteAanvraagEmailVersturen",
            "offerteAanvraagEmailVersturen",
            Kind::Obj(&EMAIL_VERSTUREN),
        ),
        p(
            "BestellingEmailVersturen",
            "bestellingEmailVersturen",
            Kind::Obj(&EMAIL_VERSTUREN),
        ),
        p("UblBestandAlsBijlage", "ublBestandAlsBijlage", Kind::Bool),
        p("Iban", "iban", Kind::Str),
        p("Bic", "bic", Kind::Str),
        p("IncassoSoort", "incassoSoort", Kind::Str),
        p("FactuurRelatie", "factuurRelatie", Kind::Obj(&REF)),
        p("Documents", "documents", Kind::ObjColl(&DOCUMENT)),
        p("Id", "id", Kind::Guid),
        p(
            "ExtraVeldenKlant",
            "extraVeldenKlant",
            Kind::ObjColl(&EXTRA_VELD),
        ),
    ],
};

pub static GROOTBOEK: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Grootboeken.GrootboekModel",
    props: &[
        p("ModifiedOn", "modifiedOn", Kind::Date),
        p("Omschrijving", "omschrijving", Kind::Str),
        p("KostenplaatsVerplicht", "kostenplaatsVerplicht", Kind::Bool),
        p("RekeningCode", "rekeningCode", Kind::Str),
        p("Nonactief", "nonactief", Kind::Bool),
        p("Nummer", "nummer", Kind::Int),
        p("Grootboekfunctie", "grootboekfunctie", Kind::Str),
        p("GrootboekRubriek", "grootboekRubriek", Kind::Str),
        p("RgsCode", "rgsCode", Kind::ObjColl(&RGS)),
        p("BtwSoort", "btwSoort", Kind::StrColl),
        p("VatRateCode", "vatRateCode", Kind::Str),
        p("Id", "id", Kind::Guid),
    ],
};

pub static VERKOOPFACTUUR: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Verkoopfacturen.VerkoopfactuurModel",
    props: &[
        p("VerkoopBoeking", "verkoopBoeking", Kind::Obj(&REF)),
        p("ModifiedOn", "modifiedOn", Kind::Date),
        p("OpenstaandSaldo", "openstaandSaldo", Kind::Dec),
        p("Factuurnummer", "factuurnummer", Kind::Str),
        p("VervalDatum", "vervalDatum", Kind::Date),
        p("Relatie", "relatie", Kind::Obj(&REF)),
        p("FactuurDatum", "factuurDatum", Kind::Date),
        p("FactuurBedrag", "factuurBedrag", Kind::Dec),
        p("VerkoopOrders", "verkoopOrders", Kind::ObjColl(&REF)),
        p("Id", "id", Kind::Guid),
    ],
};

static VERANTWOORDING: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Kasboekingen.VerkoopBoekingVerantwoordingsRegelModel",
    props: &[
        p("BoekingId", "boekingId", Kind::Obj(&REF)),
        p("Omschrijving", "omschrijving", Kind::Str),
        p("Debet", "debet", Kind::Dec),
        p("Credit", "credit", Kind::Dec),
    ],
};

static GROOTBOEK_REGEL: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Kasboekingen.GrootboekBoekingsRegelModel",
    props: &[
        p("Omschrijving", "omschrijving", Kind::Str),
        p("Grootboek", "grootboek", Kind::Obj(&REF)),
        p("Kostenplaats", "kostenplaats", Kind::Obj(&REF)),
        p("Debet", "debet", Kind::Dec),
        p("Credit", "credit", Kind::Dec),
        p("BtwSoort", "btwSoort", Kind::Str),
    ],
};

static BTW_REGEL: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Kasboekingen.BtwBoekingregelModel",
    props: &[
        p("Debet", "debet", Kind::Dec),
        p("Credit", "credit", Kind::Dec),
        p("Type", "type", Kind::Str),
        p("Tarief", "tarief", Kind::Str),
    ],
};

/// The properties bank and cash bookings share.
const KAS_BANK_PROPS: &[Prop] = &[
    p("ModifiedOn", "modifiedOn", Kind::Date),
    p("Datum", "datum", Kind::Date),
    p("Markering", "markering", Kind::Bool),
    p("Boekstuk", "boekstuk", Kind::Str),
    p(
        "GewijzigdDoorAccountant",
        "gewijzigdDoorAccountant",
        Kind::Bool,
    ),
    p("Omschrijving", "omschrijving", Kind::Str),
    p(
        "GrootboekBoekingsRegels",
        "grootboekBoekingsRegels",
        Kind::ObjColl(&GROOTBOEK_REGEL),
    ),
    p(
        "InkoopboekingBoekingsRegels",
        "inkoopboekingBoekingsRegels",
        Kind::ObjColl(&VERANTWOORDING),
    ),
    p(
        "VerkoopboekingBoekingsRegels",
        "verkoopboekingBoekingsRegels",
        Kind::ObjColl(&VERANTWOORDING),
    ),
    p(
        "BtwBoekingsregels",
        "btwBoekingsregels",
        Kind::ObjColl(&BTW_REGEL),
    ),
    p("BedragUitgegeven", "bedragUitgegeven", Kind::Dec),
    p("BedragOntvangen", "bedragOntvangen", Kind::Dec),
    p("Dagboek", "dagboek", Kind::Obj(&REF)),
    p("Id", "id", Kind::Guid),
];

/// `GrootboekMutatieModel` (`/grootboekmutaties`, derived from the verkoopboekingen).
pub static GROOTBOEKMUTATIE: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.GrootboekMutaties.GrootboekMutatieModel",
    props: &[
        p("Grootboek", "grootboek", Kind::Obj(&REF)),
        p("Kostenplaats", "kostenplaats", Kind::Obj(&REF)),
        p("Datum", "datum", Kind::Date),
        p("ModifiedOn", "modifiedOn", Kind::Date),
        p("Dagboek", "dagboek", Kind::Obj(&REF)),
        p("Omschrijving", "omschrijving", Kind::Str),
        p("Debet", "debet", Kind::Dec),
        p("Credit", "credit", Kind::Dec),
        p("Saldo", "saldo", Kind::Dec),
        p("Documents", "documents", Kind::ObjColl(&DOCUMENT)),
        p("Boekstuk", "boekstuk", Kind::Str),
        p("FactuurNummer", "factuurNummer", Kind::Str),
        p(
            "RelatiePublicIdentifier",
            "relatiePublicIdentifier",
            Kind::Obj(&REF),
        ),
        p("Id", "id", Kind::Guid),
    ],
};

pub static BANKBOEKING: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Bankboekingen.BankboekingModel",
    props: KAS_BANK_PROPS,
};

pub static KASBOEKING: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Kasboekingen.KasboekingModel",
    props: KAS_BANK_PROPS,
};

fn find(schema: &'static Schema, name: &str) -> Option<&'static Prop> {
    schema.props.iter().find(|p| p.name == name)
}

// ---------------------------------------------------------------------------------------------
// Lexer.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Typed(String, String),
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
    Eof,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize| -> Result<String, String> {
        // at opening quote
        let start = *i;
        *i += 1;
        let mut s = String::new();
        loop {
            match chars.get(*i) {
                None => {
                    return Err(format!(
                        "There is an unterminated string literal at position {start} in '{src}'."
                    ));
                }
                Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                    s.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(*c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | ':' | '/' => {
                out.push((
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        ',' => Tok::Comma,
                        ':' => Tok::Colon,
                        _ => Tok::Slash,
                    },
                    pos,
                ));
                i += 1;
            }
            '\'' => {
                let s = quoted(&mut i)?;
                out.push((Tok::Str(s), pos));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let mut s = String::from(c);
                i += 1;
                while let Some(&d) = chars.get(i) {
                    let exp_sign =
                        (d == '-' || d == '+') && matches!(s.chars().last(), Some('e' | 'E'));
                    if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exp_sign {
                        s.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                if let Some(&d) = chars.get(i)
                    && matches!(d, 'm' | 'M' | 'd' | 'D' | 'f' | 'F' | 'l' | 'L')
                {
                    s.push(d);
                    i += 1;
                }
                out.push((Tok::Num(s), pos));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut s = String::new();
                while let Some(&d) = chars.get(i) {
                    if d.is_alphanumeric() || d == '_' || d == '.' || d == '$' {
                        s.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                if chars.get(i) == Some(&'\'') {
                    let content = quoted(&mut i)?;
                    out.push((Tok::Typed(s, content), pos));
                } else {
                    out.push((Tok::Ident(s), pos));
                }
            }
            other => {
                return Err(format!(
                    "Syntax error: character '{other}' is not valid at position {pos} in '{src}'."
                ));
            }
        }
    }
    out.push((Tok::Eof, chars.len()));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// AST.

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn kind_name(self) -> &'static str {
        match self {
            Op::Eq => "Equal",
            Op::Ne => "NotEqual",
            Op::Gt => "GreaterThan",
            Op::Ge => "GreaterThanOrEqual",
            Op::Lt => "LessThan",
            Op::Le => "LessThanOrEqual",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(Decimal, &'static str),
    Str(String),
    Guid(Uuid),
    Date(NaiveDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Func {
    SubstringOf,
    StartsWith,
    EndsWith,
    ToLower,
    ToUpper,
    Trim,
    Length,
    IndexOf,
    Concat,
    Substring,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Round,
    Floor,
    Ceiling,
}

#[derive(Debug, Clone)]
pub enum Node {
    Lit(Lit),
    Path {
        root: Option<usize>,
        keys: Vec<&'static str>,
        kind: KindTag,
    },
    Func(Func, Vec<Node>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(Op, Box<Node>, Box<Node>),
    Lambda {
        root: Option<usize>,
        keys: Vec<&'static str>,
        all: bool,
        body: Option<Box<Node>>,
    },
}

/// A `Kind` without schema references, for evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KindTag {
    Int,
    Dec,
    Dbl,
    Str,
    Bool,
    Guid,
    Date,
    Complex,
    Coll,
}

fn tag(k: Kind) -> KindTag {
    match k {
        Kind::Int => KindTag::Int,
        Kind::Dec => KindTag::Dec,
        Kind::Dbl => KindTag::Dbl,
        Kind::Str => KindTag::Str,
        Kind::Bool => KindTag::Bool,
        Kind::Guid => KindTag::Guid,
        Kind::Date => KindTag::Date,
        Kind::Obj(_) => KindTag::Complex,
        Kind::StrColl | Kind::ObjColl(_) => KindTag::Coll,
    }
}

/// Static type of an expression, for OData's operand checks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Num(&'static str),
    Str,
    Bool,
    Guid,
    Date,
    Null,
    Complex,
    Coll,
}

impl Ty {
    fn edm(self) -> &'static str {
        match self {
            Ty::Num(n) => n,
            Ty::Str => "Edm.String",
            Ty::Bool => "Edm.Boolean",
            Ty::Guid => "Edm.Guid",
            Ty::Date => "Edm.DateTime",
            Ty::Null => "<null>",
            Ty::Complex => "Complex",
            Ty::Coll => "Collection",
        }
    }
}

fn kind_ty(k: KindTag) -> Ty {
    match k {
        KindTag::Int => Ty::Num("Edm.Int32"),
        KindTag::Dec => Ty::Num("Edm.Decimal"),
        KindTag::Dbl => Ty::Num("Edm.Double"),
        KindTag::Str => Ty::Str,
        KindTag::Bool => Ty::Bool,
        KindTag::Guid => Ty::Guid,
        KindTag::Date => Ty::Date,
        KindTag::Complex => Ty::Complex,
        KindTag::Coll => Ty::Coll,
    }
}

fn ty(n: &Node) -> Ty {
    match n {
        Node::Lit(Lit::Null) => Ty::Null,
        Node::Lit(Lit::Bool(_)) => Ty::Bool,
        Node::Lit(Lit::Num(_, edm)) => Ty::Num(edm),
        Node::Lit(Lit::Str(_)) => Ty::Str,
        Node::Lit(Lit::Guid(_)) => Ty::Guid,
        Node::Lit(Lit::Date(_)) => Ty::Date,
        Node::Path { kind, .. } => kind_ty(*kind),
        Node::Func(f, _) => match f {
            Func::SubstringOf | Func::StartsWith | Func::EndsWith => Ty::Bool,
            Func::ToLower | Func::ToUpper | Func::Trim | Func::Concat | Func::Substring => Ty::Str,
            Func::Round | Func::Floor | Func::Ceiling => Ty::Num("Edm.Decimal"),
            _ => Ty::Num("Edm.Int32"),
        },
        Node::Not(_) | Node::And(..) | Node::Or(..) | Node::Cmp(..) | Node::Lambda { .. } => {
            Ty::Bool
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parser.

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    i: usize,
    root: &'static Schema,
    scopes: Vec<(String, Kind)>,
    depth: usize,
}

/// Nesting limit for `$filter` expressions (OData's default recursion limit is 100).
const MAX_DEPTH: usize = 100;

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.0)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.src.len(), |t| t.1)
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.i += 1;
        t
    }

    fn syntax(&self) -> String {
        format!("Syntax error at position {} in '{}'.", self.pos(), self.src)
    }

    fn expect(&mut self, t: &Tok) -> PResult<()> {
        if self.peek() == t {
            self.i += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn parse_or(&mut self) -> PResult<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("The recursion limit has been exceeded.".into());
        }
        let result = self.parse_or_inner();
        self.depth -= 1;
        result
    }

    fn parse_or_inner(&mut self) -> PResult<Node> {
        let mut left = self.parse_and()?;
        while self.keyword("or") {
            self.i += 1;
            let right = self.parse_and()?;
            bool_operands(&left, &right, "Or")?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> PResult<Node> {
        let mut left = self.parse_not()?;
        while self.keyword("and") {
            self.i += 1;
            let right = self.parse_not()?;
            bool_operands(&left, &right, "And")?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> PResult<Node> {
        if self.keyword("not") {
            self.i += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("The recursion limit has been exceeded.".into());
            }
            let inner = self.parse_not();
            self.depth -= 1;
            let inner = inner?;
            if !matches!(ty(&inner), Ty::Bool | Ty::Null) {
                return Err(format!(
                    "A unary operator with an incompatible type was detected. Found operand type '{}' for operator kind 'Not'.",
                    ty(&inner).edm()
                ));
            }
            return Ok(Node::Not(Box::new(inner)));
        }
        self.parse_cmp()
    }

    fn parse_cmp(&mut self) -> PResult<Node> {
        let left = self.parse_primary()?;
        let op = match self.peek() {
            Tok::Ident(s) => match s.as_str() {
                "eq" => Some(Op::Eq),
                "ne" => Some(Op::Ne),
                "gt" => Some(Op::Gt),
                "ge" => Some(Op::Ge),
                "lt" => Some(Op::Lt),
                "le" => Some(Op::Le),
                "add" | "sub" | "mul" | "div" | "mod" => {
                    return Err(format!(
                        "The arithmetic operator '{s}' is not supported by this endpoint."
                    ));
                }
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            return Ok(left);
        };
        self.i += 1;
        let right = self.parse_primary()?;
        let (a, b) = (ty(&left), ty(&right));
        for t in [a, b] {
            if matches!(t, Ty::Complex | Ty::Coll) {
                return Err(format!(
                    "The operand for a binary operator '{}' is not a single value. Binary operators require both operands to be single values.",
                    op.kind_name()
                ));
            }
        }
        let ok = match (a, b) {
            (Ty::Null, _) | (_, Ty::Null) => true,
            (Ty::Num(_), Ty::Num(_)) => true,
            (x, y) => x == y,
        };
        if !ok {
            return Err(format!(
                "A binary operator with incompatible types was detected. Found operand types '{}' and '{}' for operator kind '{}'.",
                a.edm(),
                b.edm(),
                op.kind_name()
            ));
        }
        Ok(Node::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn parse_primary(&mut self) -> PResult<Node> {
        let pos = self.pos();
        match self.next() {
            Tok::LParen => {
                let e = self.parse_or()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Tok::Str(s) => Ok(Node::Lit(Lit::Str(s))),
            Tok::Num(n) => number(&n).map(Node::Lit).ok_or_else(|| {
                format!(
                    "Syntax error: '{n}' at position {pos} in '{}' is not a valid number.",
                    self.src
                )
            }),
            Tok::Typed(prefix, content) => self.typed(&prefix, &content, pos).map(Node::Lit),
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Node::Lit(Lit::Bool(true))),
                "false" => Ok(Node::Lit(Lit::Bool(false))),
                "null" => Ok(Node::Lit(Lit::Null)),
                _ if *self.peek() == Tok::LParen => self.function(&name),
                _ => self.path(&name),
            },
            _ => Err(format!(
                "Expression expected at position {pos} in '{}'.",
                self.src
            )),
        }
    }

    fn typed(&self, prefix: &str, content: &str, pos: usize) -> PResult<Lit> {
        let bad = |edm: &str| {
            format!(
                "Unrecognized '{edm}' literal '{prefix}'{content}'' at '{pos}' in '{}'.",
                self.src
            )
        };
        match prefix {
            "guid" => Uuid::parse_str(content)
                .map(Lit::Guid)
                .map_err(|_| bad("Edm.Guid")),
            "datetime" | "datetimeoffset" => parse_date(content)
                .map(Lit::Date)
                .ok_or_else(|| bad("Edm.DateTime")),
            _ => Err(format!(
                "Syntax error: the literal '{prefix}'{content}'' at position {pos} in '{}' is not supported.",
                self.src
            )),
        }
    }

    fn function(&mut self, name: &str) -> PResult<Node> {
        let (f, arity): (Func, &[usize]) = match name {
            "substringof" => (Func::SubstringOf, &[2]),
            "startswith" => (Func::StartsWith, &[2]),
            "endswith" => (Func::EndsWith, &[2]),
            "tolower" => (Func::ToLower, &[1]),
            "toupper" => (Func::ToUpper, &[1]),
            "trim" => (Func::Trim, &[1]),
            "length" => (Func::Length, &[1]),
            "indexof" => (Func::IndexOf, &[2]),
            "concat" => (Func::Concat, &[2]),
            "substring" => (Func::Substring, &[2, 3]),
            "year" => (Func::Year, &[1]),
            "month" => (Func::Month, &[1]),
            "day" => (Func::Day, &[1]),
            "hour" => (Func::Hour, &[1]),
            "minute" => (Func::Minute, &[1]),
            "second" => (Func::Second, &[1]),
            "round" => (Func::Round, &[1]),
            "floor" => (Func::Floor, &[1]),
            "ceiling" => (Func::Ceiling, &[1]),
            _ => return Err(format!("Unknown function '{name}'.")),
        };
        self.expect(&Tok::LParen)?;
        let mut args = Vec::new();
        if *self.peek() != Tok::RParen {
            loop {
                args.push(self.parse_or()?);
                if *self.peek() == Tok::Comma {
                    self.i += 1;
                } else {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen)?;
        if !arity.contains(&args.len()) {
            return Err(format!(
                "No function signature for the function with name '{name}' matches the specified arguments."
            ));
        }
        for a in &args {
            if matches!(ty(a), Ty::Complex | Ty::Coll) {
                return Err(format!(
                    "No function signature for the function with name '{name}' matches the specified arguments."
                ));
            }
        }
        Ok(Node::Func(f, args))
    }

    fn path(&mut self, first: &str) -> PResult<Node> {
        let (root, mut kind, mut keys) =
            if let Some(idx) = self.scopes.iter().rposition(|(n, _)| n == first) {
                (Some(idx), self.scopes[idx].1, Vec::new())
            } else {
                let prop = find(self.root, first).ok_or_else(|| {
                    format!(
                        "Could not find a property named '{first}' on type '{}'.",
                        self.root.type_name
                    )
                })?;
                (None, prop.kind, vec![prop.key])
            };
        while *self.peek() == Tok::Slash {
            self.i += 1;
            let Tok::Ident(name) = self.next() else {
                return Err(self.syntax());
            };
            if (name == "any" || name == "all") && *self.peek() == Tok::LParen {
                let elem = match kind {
                    Kind::StrColl => Kind::Str,
                    Kind::ObjColl(s) => Kind::Obj(s),
                    _ => {
                        return Err(format!(
                            "The '{name}' query option can only be applied to a collection."
                        ));
                    }
                };
                self.i += 1;
                if *self.peek() == Tok::RParen {
                    self.i += 1;
                    if name == "all" {
                        return Err(self.syntax());
                    }
                    return Ok(Node::Lambda {
                        root,
                        keys,
                        all: false,
                        body: None,
                    });
                }
                let Tok::Ident(var) = self.next() else {
                    return Err(self.syntax());
                };
                self.expect(&Tok::Colon)?;
                self.scopes.push((var, elem));
                let body = self.parse_or();
                self.scopes.pop();
                let body = body?;
                self.expect(&Tok::RParen)?;
                if !matches!(ty(&body), Ty::Bool | Ty::Null) {
                    return Err(format!(
                        "The '{name}' lambda expression must evaluate to a boolean value."
                    ));
                }
                return Ok(Node::Lambda {
                    root,
                    keys,
                    all: name == "all",
                    body: Some(Box::new(body)),
                });
            }
            let Kind::Obj(schema) = kind else {
                let type_name = match kind {
                    Kind::StrColl | Kind::ObjColl(_) => "Collection",
                    k => kind_ty(tag(k)).edm(),
                };
                return Err(format!(
                    "Could not find a property named '{name}' on type '{type_name}'."
                ));
            };
            let prop = find(schema, &name).ok_or_else(|| {
                format!(
                    "Could not find a property named '{name}' on type '{}'.",
                    schema.type_name
                )
            })?;
            keys.push(prop.key);
            kind = prop.kind;
        }
        Ok(Node::Path {
            root,
            keys,
            kind: tag(kind),
        })
    }
}

fn bool_operands(a: &Node, b: &Node, op: &str) -> PResult<()> {
    let (x, y) = (ty(a), ty(b));
    if matches!(x, Ty::Bool | Ty::Null) && matches!(y, Ty::Bool | Ty::Null) {
        Ok(())
    } else {
        Err(format!(
            "A binary operator with incompatible types was detected. Found operand types '{}' and '{}' for operator kind '{op}'.",
            x.edm(),
            y.edm()
        ))
    }
}

fn number(text: &str) -> Option<Lit> {
    let (body, edm) = match text.chars().last() {
        Some('m' | 'M') => (&text[..text.len() - 1], "Edm.Decimal"),
        Some('l' | 'L') => (&text[..text.len() - 1], "Edm.Int64"),
        Some('d' | 'D') => (&text[..text.len() - 1], "Edm.Double"),
        Some('f' | 'F') => (&text[..text.len() - 1], "Edm.Single"),
        _ if text.contains(['.', 'e', 'E']) => (text, "Edm.Double"),
        _ => (text, "Edm.Int32"),
    };
    let d = parse_decimal(body)?;
    let edm = if edm == "Edm.Int32" && i32::try_from(d.mantissa()).is_err() {
        "Edm.Int64"
    } else {
        edm
    };
    Some(Lit::Num(d, edm))
}

/// Parses a `$filter` expression against `schema`.
pub fn parse_filter(src: &str, schema: &'static Schema) -> Result<Node, String> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        i: 0,
        root: schema,
        scopes: Vec::new(),
        depth: 0,
    };
    let node = p.parse_or()?;
    if *p.peek() != Tok::Eof {
        return Err(p.syntax());
    }
    if !matches!(ty(&node), Ty::Bool | Ty::Null) {
        return Err("The $filter expression must evaluate to a single boolean value.".into());
    }
    Ok(node)
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Null,
    Bool(bool),
    Num(Decimal),
    Str(Cow<'a, str>),
    Guid(Uuid),
    Date(NaiveDateTime),
}

fn resolve<'a>(
    row: &'a Value,
    vars: &[&'a Value],
    root: Option<usize>,
    keys: &[&str],
) -> Option<&'a Value> {
    let mut cur = match root {
        None => row,
        Some(i) => vars.get(i).copied()?,
    };
    for k in keys {
        cur = cur.get(k)?;
    }
    Some(cur)
}

fn to_val(v: Option<&Value>, kind: KindTag) -> Val<'_> {
    let Some(v) = v else {
        return Val::Null;
    };
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => parse_decimal(&n.to_string()).map_or(Val::Null, Val::Num),
        Value::String(s) => match kind {
            KindTag::Guid => Uuid::parse_str(s).map_or(Val::Null, Val::Guid),
            KindTag::Date => parse_date(s).map_or(Val::Null, Val::Date),
            _ => Val::Str(Cow::Borrowed(s)),
        },
        _ => Val::Null,
    }
}

fn lit_val(l: &Lit) -> Val<'_> {
    match l {
        Lit::Null => Val::Null,
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Num(d, _) => Val::Num(*d),
        Lit::Str(s) => Val::Str(Cow::Borrowed(s)),
        Lit::Guid(g) => Val::Guid(*g),
        Lit::Date(d) => Val::Date(*d),
    }
}

fn order(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Num(x), Val::Num(y)) => Some(x.cmp(y)),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Guid(x), Val::Guid(y)) => Some(x.cmp(y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(y)),
        (Val::Str(s), Val::Guid(g)) => Uuid::parse_str(s).ok().map(|u| u.cmp(g)),
        (Val::Guid(g), Val::Str(s)) => Uuid::parse_str(s).ok().map(|u| g.cmp(&u)),
        (Val::Str(s), Val::Date(d)) => parse_date(s).map(|x| x.cmp(d)),
        (Val::Date(d), Val::Str(s)) => parse_date(s).map(|x| d.cmp(&x)),
        _ => None,
    }
}

fn compare(op: Op, a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => return op == Op::Eq,
        (Val::Null, _) | (_, Val::Null) => return op == Op::Ne,
        _ => {}
    }
    match order(a, b) {
        None => op == Op::Ne,
        Some(o) => match op {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
        },
    }
}

fn truthy(v: &Val<'_>) -> bool {
    matches!(v, Val::Bool(true))
}

impl Node {
    fn eval<'a>(&'a self, row: &'a Value, vars: &mut Vec<&'a Value>) -> Val<'a> {
        match self {
            Node::Lit(l) => lit_val(l),
            Node::Path { root, keys, kind } => to_val(resolve(row, vars, *root, keys), *kind),
            Node::Not(inner) => match inner.eval(row, vars) {
                Val::Bool(b) => Val::Bool(!b),
                _ => Val::Null,
            },
            Node::And(a, b) => Val::Bool(truthy(&a.eval(row, vars)) && truthy(&b.eval(row, vars))),
            Node::Or(a, b) => Val::Bool(truthy(&a.eval(row, vars)) || truthy(&b.eval(row, vars))),
            Node::Cmp(op, a, b) => {
                let x = a.eval(row, vars);
                let y = b.eval(row, vars);
                Val::Bool(compare(*op, &x, &y))
            }
            Node::Lambda {
                root,
                keys,
                all,
                body,
            } => {
                let Some(Value::Array(items)) = resolve(row, vars, *root, keys) else {
                    return Val::Bool(*all);
                };
                let Some(body) = body else {
                    return Val::Bool(!items.is_empty());
                };
                let mut result = *all;
                for item in items {
                    vars.push(item);
                    let hit = truthy(&body.eval(row, vars));
                    vars.pop();
                    if *all && !hit {
                        result = false;
                        break;
                    }
                    if !*all && hit {
                        result = true;
                        break;
                    }
                }
                Val::Bool(result)
            }
            Node::Func(f, args) => {
                let vals: Vec<Val<'a>> = args.iter().map(|a| a.eval(row, vars)).collect();
                call(*f, &vals)
            }
        }
    }

    /// Whether `row` passes this filter.
    pub fn matches(&self, row: &Value) -> bool {
        let mut vars = Vec::new();
        truthy(&self.eval(row, &mut vars))
    }

    /// A top-level `Key eq literal` conjunct (for index lookups): the JSON key and literal.
    pub fn eq_hint(&self) -> Option<(&'static str, &Lit)> {
        match self {
            Node::Cmp(Op::Eq, a, b) => match (a.as_ref(), b.as_ref()) {
                (
                    Node::Path {
                        root: None, keys, ..
                    },
                    Node::Lit(l),
                )
                | (
                    Node::Lit(l),
                    Node::Path {
                        root: None, keys, ..
                    },
                ) if keys.len() == 1 && *l != Lit::Null => keys.first().map(|k| (*k, l)),
                _ => None,
            },
            Node::And(a, b) => a.eq_hint().or_else(|| b.eq_hint()),
            _ => None,
        }
    }
}

fn as_str<'v>(v: &'v Val<'_>) -> Option<&'v str> {
    match v {
        Val::Str(s) => Some(s),
        _ => None,
    }
}

fn call<'a>(f: Func, a: &[Val<'a>]) -> Val<'a> {
    let s0 = a.first().and_then(as_str);
    let s1 = a.get(1).and_then(as_str);
    let date = match a.first() {
        Some(Val::Date(d)) => Some(*d),
        _ => None,
    };
    let num = match a.first() {
        Some(Val::Num(n)) => Some(*n),
        _ => None,
    };
    let opt_bool = |b: Option<bool>| b.map_or(Val::Null, Val::Bool);
    let opt_num = |n: Option<i64>| n.map_or(Val::Null, |n| Val::Num(Decimal::from(n)));
    let opt_str = |s: Option<String>| s.map_or(Val::Null, |s| Val::Str(Cow::Owned(s)));
    let chars_len = |s: &str| i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
    match f {
        Func::SubstringOf => opt_bool(s0.zip(s1).map(|(needle, hay)| hay.contains(needle))),
        Func::StartsWith => opt_bool(s0.zip(s1).map(|(s, p)| s.starts_with(p))),
        Func::EndsWith => opt_bool(s0.zip(s1).map(|(s, p)| s.ends_with(p))),
        Func::ToLower => opt_str(s0.map(str::to_lowercase)),
        Func::ToUpper => opt_str(s0.map(str::to_uppercase)),
        Func::Trim => opt_str(s0.map(|s| s.trim().to_owned())),
        Func::Length => opt_num(s0.map(chars_len)),
        Func::IndexOf => opt_num(s0.zip(s1).map(|(s, p)| {
            s.find(p)
                .map_or(-1, |byte| chars_len(s.get(..byte).unwrap_or_default()))
        })),
        Func::Concat => opt_str(s0.zip(s1).map(|(x, y)| format!("{x}{y}"))),
        Func::Substring => {
            let int = |i: usize| match a.get(i) {
                Some(Val::Num(n)) => rust_decimal::prelude::ToPrimitive::to_usize(n),
                _ => None,
            };
            match (s0, int(1)) {
                (Some(s), Some(start)) => {
                    let it = s.chars().skip(start);
                    let out: String = match (a.len(), int(2)) {
                        (3, Some(n)) => it.take(n).collect(),
                        (3, None) => return Val::Null,
                        _ => it.collect(),
                    };
                    Val::Str(Cow::Owned(out))
                }
                _ => Val::Null,
            }
        }
        Func::Year => opt_num(date.map(|d| i64::from(chrono::Datelike::year(&d)))),
        Func::Month => opt_num(date.map(|d| i64::from(chrono::Datelike::month(&d)))),
        Func::Day => opt_num(date.map(|d| i64::from(chrono::Datelike::day(&d)))),
        Func::Hour => opt_num(date.map(|d| i64::from(d.hour()))),
        Func::Minute => opt_num(date.map(|d| i64::from(d.minute()))),
        Func::Second => opt_num(date.map(|d| i64::from(d.second()))),
        Func::Round => num.map_or(Val::Null, |n| {
            Val::Num(
                n.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
            )
        }),
        Func::Floor => num.map_or(Val::Null, |n| Val::Num(n.floor())),
        Func::Ceiling => num.map_or(Val::Null, |n| Val::Num(n.ceil())),
    }
}

// ---------------------------------------------------------------------------------------------
// Query options.

pub struct Query {
    pub filter: Option<Node>,
    pub top: usize,
    pub skip: usize,
    orderby: Vec<(Node, bool)>,
    select: Option<Vec<&'static str>>,
}

/// Reads `$filter`, `$top`, `$skip`, `$orderby`, `$select` (other parameters are ignored).
/// An error is the text of the 400 `{"Message": …}` body.
pub fn parse_query(
    params: &[(String, String)],
    schema: &'static Schema,
    max_top: usize,
) -> Result<Query, String> {
    let mut q = Query {
        filter: None,
        top: max_top,
        skip: 0,
        orderby: Vec::new(),
        select: None,
    };
    for (k, v) in params {
        match k.as_str() {
            "$top" => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    format!(
                        "Invalid value '{v}' for $top query option found. The $top query option requires a non-negative integer value."
                    )
                })?;
                if n < 0 {
                    return Err(format!(
                        "Invalid value '{v}' for $top query option found. The $top query option requires a non-negative integer value."
                    ));
                }
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > max_top {
                    return Err(format!(
                        "The limit of '{max_top}' for Top query has been exceeded. The value from the incoming request is '{v}'."
                    ));
                }
                q.top = n;
            }
            "$skip" => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    format!(
                        "Invalid value '{v}' for $skip query option found. The $skip query option requires a non-negative integer value."
                    )
                })?;
                q.skip = usize::try_from(n).map_err(|_| {
                    format!(
                        "Invalid value '{v}' for $skip query option found. The $skip query option requires a non-negative integer value."
                    )
                })?;
            }
            "$filter" if !v.trim().is_empty() => q.filter = Some(parse_filter(v, schema)?),
            "$orderby" if !v.trim().is_empty() => {
                for part in v.split(',') {
                    let mut words = part.split_whitespace();
                    let path = words.next().unwrap_or_default();
                    let desc = match words.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(_) => return Err(format!("Syntax error at position 0 in '{v}'.")),
                    };
                    let node = parse_filter_path(path, schema)?;
                    q.orderby.push((node, desc));
                }
            }
            "$select" if !v.trim().is_empty() && v.trim() != "*" => {
                let mut keys = Vec::new();
                for name in v.split(',').map(str::trim) {
                    let prop = find(schema, name).ok_or_else(|| {
                        format!(
                            "Could not find a property named '{name}' on type '{}'.",
                            schema.type_name
                        )
                    })?;
                    keys.push(prop.key);
                }
                q.select = Some(keys);
            }
            _ => {}
        }
    }
    Ok(q)
}

fn parse_filter_path(path: &str, schema: &'static Schema) -> Result<Node, String> {
    let toks = lex(path)?;
    let mut p = Parser {
        src: path,
        toks,
        i: 0,
        root: schema,
        scopes: Vec::new(),
        depth: 0,
    };
    let node = p.parse_primary()?;
    if *p.peek() != Tok::Eof || !matches!(node, Node::Path { .. }) {
        return Err(format!("Syntax error at position 0 in '{path}'."));
    }
    if matches!(ty(&node), Ty::Complex | Ty::Coll) {
        return Err(format!(
            "The $orderby expression must evaluate to a single value of primitive type: '{path}'."
        ));
    }
    Ok(node)
}

/// A stored row: a JSON value, or JSON kept serialized.
#[derive(Clone, Copy)]
pub enum RowRef<'a> {
    Json(&'a Value),
    Raw(&'a [u8]),
}

impl<'a> RowRef<'a> {
    /// The row as a JSON value (parses a serialized row).
    pub fn to_value(self) -> Value {
        match self {
            RowRef::Json(v) => v.clone(),
            RowRef::Raw(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        }
    }

    fn value(self) -> Cow<'a, Value> {
        match self {
            RowRef::Json(v) => Cow::Borrowed(v),
            RowRef::Raw(b) => Cow::Owned(serde_json::from_slice(b).unwrap_or(Value::Null)),
        }
    }

    fn write(self, out: &mut Vec<u8>) {
        match self {
            RowRef::Json(v) => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
            RowRef::Raw(b) => out.extend_from_slice(b),
        }
    }
}

/// Serializes rows as a bare JSON array.
pub fn render_array<'a>(rows: impl Iterator<Item = RowRef<'a>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(b'[');
    for (i, r) in rows.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        r.write(&mut out);
    }
    out.push(b']');
    out
}

impl Query {
    /// Filters, orders, pages and projects `rows` into a bare JSON array.
    pub fn render<'a>(&self, rows: impl Iterator<Item = RowRef<'a>>) -> Vec<u8> {
        if self.filter.is_none() && self.orderby.is_empty() && self.select.is_none() {
            return render_array(rows.skip(self.skip).take(self.top));
        }
        let mut hits: Vec<(RowRef<'a>, Cow<'a, Value>)> = rows
            .map(|r| (r, r.value()))
            .filter(|(_, v)| self.filter.as_ref().is_none_or(|f| f.matches(v)))
            .collect();
        if !self.orderby.is_empty() {
            hits.sort_by(|(_, a), (_, b)| {
                for (node, desc) in &self.orderby {
                    let mut va = Vec::new();
                    let mut vb = Vec::new();
                    let x = node.eval(a, &mut va);
                    let y = node.eval(b, &mut vb);
                    let o = match (&x, &y) {
                        (Val::Null, Val::Null) => Ordering::Equal,
                        (Val::Null, _) => Ordering::Less,
                        (_, Val::Null) => Ordering::Greater,
                        _ => order(&x, &y).unwrap_or(Ordering::Equal),
                    };
                    let o = if *desc { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let page = hits.into_iter().skip(self.skip).take(self.top);
        match &self.select {
            None => render_array(page.map(|(r, _)| r)),
            Some(keys) => {
                let projected: Vec<Value> = page
                    .map(|(_, row)| {
                        let mut m = Map::new();
                        for k in keys {
                            m.insert((*k).to_owned(), row.get(k).cloned().unwrap_or(Value::Null));
                        }
                        Value::Object(m)
                    })
                    .collect();
                render_array(projected.iter().map(RowRef::Json))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row() -> Value {
        json!({
            "relatiesoort": ["Klant"],
            "relatiecode": 1001,
            "naam": "O'Brien B.V.",
            "email": null,
            "nonactief": false,
            "factuurkorting": 1.50,
            "modifiedOn": "2026-05-13T16:34:48.123",
            "id": "5830cec3-8929-4703-80b4-bd695402a7b0",
            "vestigingsAdres": { "plaats": "Alkmaar", "land": { "id": "c4335f00-c6a6-48fd-b89f-108657d12ccf" } },
            "extraVeldenKlant": [ { "naam": "lid", "waarde": "5299" } ],
        })
    }

    fn hit(f: &str) -> bool {
        match parse_filter(f, &RELATIE) {
            Ok(n) => n.matches(&row()),
            Err(e) => panic!("{f}: {e}"),
        }
    }

    fn err(f: &str) -> String {
        match parse_filter(f, &RELATIE) {
            Ok(_) => panic!("{f} parsed"),
            Err(e) => e,
        }
    }

    #[test]
    fn filters_match() {
        assert!(hit("Relatiecode eq 1001"));
        assert!(!hit("Relatiecode eq 1002"));
        assert!(hit(
            "Relatiecode gt 0 and Relatiesoort/any(x: x eq 'Klant')"
        ));
        assert!(!hit("Relatiesoort/any(r:r eq 'Leverancier')"));
        assert!(hit("Naam eq 'O''Brien B.V.'"));
        assert!(hit("Email eq null"));
        assert!(!hit("Email ne null"));
        assert!(hit("Id eq guid'5830cec3-8929-4703-80b4-bd695402a7b0'"));
        assert!(hit("ModifiedOn gt datetime'2017-07-16T23:59:59.999'"));
        assert!(hit(
            "VestigingsAdres/Land/Id ne guid'00000000-0000-0000-0000-000000000001'"
        ));
        assert!(hit("substringof('Brien', Naam) eq true"));
        assert!(hit("startswith(Naam,'O''B')"));
        assert!(hit(
            "(Relatiecode eq 1 or Relatiecode eq 1001) and not Nonactief"
        ));
        assert!(hit(
            "ExtraVeldenKlant/any(e:e/Waarde eq '5299' and e/Naam eq 'lid')"
        ));
        assert!(hit("Factuurkorting eq 1.5"));
        assert!(hit("Factuurkorting ge 1.5M"));
        assert!(hit("year(ModifiedOn) eq 2026"));
        assert!(hit("tolower(Naam) eq 'o''brien b.v.'"));
        assert!(hit("Relatiesoort/any()"));
    }

    #[test]
    fn filters_are_checked() {
        assert_eq!(
            err("Foo eq 1"),
            "Could not find a property named 'Foo' on type 'SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel'."
        );
        assert!(err("naam eq 'x'").contains("Could not find a property named 'naam'"));
        assert!(err("Relatiecode eq '1001'").contains("incompatible types"));
        assert!(err("Id eq '5830cec3-8929-4703-80b4-bd695402a7b0'").contains("incompatible"));
        assert!(err("Relatiecode eq").contains("Expression expected"));
        assert!(err("Naam eq 'x").contains("unterminated"));
        assert!(err("VestigingsAdres eq null").contains("not a single value"));
        assert!(err("Relatiecode").contains("boolean"));
        assert!(err("foo(Naam)").contains("Unknown function"));
        assert!(err("Id eq guid'nope'").contains("Edm.Guid"));
        let deep = format!("{}Relatiecode eq 1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(err(&deep).contains("recursion limit"));
        assert!(err(&"not ".repeat(5000)).contains("recursion limit"));
    }

    #[test]
    fn query_options() {
        let p = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert!(parse_query(&p("$top", "501"), &RELATIE, 500).is_err_and(|e| e
            == "The limit of '500' for Top query has been exceeded. The value from the incoming request is '501'."));
        assert!(parse_query(&p("$top", "-1"), &RELATIE, 500).is_err());
        assert!(parse_query(&p("$skip", "x"), &RELATIE, 500).is_err());
        let rows = [
            json!({"relatiecode": 2, "naam": "b"}),
            json!({"relatiecode": 1, "naam": "a"}),
            json!({"relatiecode": 3, "naam": "c"}),
        ];
        let q = parse_query(
            &[
                ("$orderby".into(), "Relatiecode desc".into()),
                ("$skip".into(), "1".into()),
                ("$top".into(), "1".into()),
                ("$select".into(), "Naam".into()),
            ],
            &RELATIE,
            500,
        );
        let Ok(q) = q else { panic!() };
        let out: Value =
            serde_json::from_slice(&q.render(rows.iter().map(RowRef::Json))).unwrap_or_default();
        assert_eq!(out, json!([{"naam": "b"}]));
        let raw = [
            br#"{"relatiecode": 2}"#.as_slice(),
            br#"{"relatiecode": 1}"#.as_slice(),
        ];
        let q = parse_query(
            &[("$filter".into(), "Relatiecode lt 2".into())],
            &RELATIE,
            500,
        );
        let Ok(q) = q else { panic!() };
        assert_eq!(
            q.render(raw.iter().map(|b| RowRef::Raw(b))),
            br#"[{"relatiecode": 1}]"#
        );
        let q = parse_filter("Relatiecode eq 7 and Naam ne 'x'", &RELATIE);
        let Ok(q) = q else { panic!() };
        assert!(matches!(q.eq_hint(), Some(("relatiecode", Lit::Num(..)))));
    }
}
