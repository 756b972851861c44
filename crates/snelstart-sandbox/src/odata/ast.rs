//! The syntax tree of a `$filter` and its static types.

#[allow(clippy::wildcard_imports)]
use super::*;

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
    pub(super) fn kind_name(self) -> &'static str {
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

pub(super) fn tag(k: Kind) -> KindTag {
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
pub(super) enum Ty {
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
    pub(super) fn edm(self) -> &'static str {
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

pub(super) fn kind_ty(k: KindTag) -> Ty {
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

pub(super) fn ty(n: &Node) -> Ty {
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
