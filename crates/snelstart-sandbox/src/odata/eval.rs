//! Evaluation of a parsed `$filter` against a JSON row.

#[allow(clippy::wildcard_imports)]
use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val<'a> {
    Null,
    Bool(bool),
    Num(Decimal),
    Str(Cow<'a, str>),
    Guid(Uuid),
    Date(NaiveDateTime),
}

pub(super) fn resolve<'a>(
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

pub(super) fn to_val(v: Option<&Value>, kind: KindTag) -> Val<'_> {
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

pub(super) fn lit_val(l: &Lit) -> Val<'_> {
    match l {
        Lit::Null => Val::Null,
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Num(d, _) => Val::Num(*d),
        Lit::Str(s) => Val::Str(Cow::Borrowed(s)),
        Lit::Guid(g) => Val::Guid(*g),
        Lit::Date(d) => Val::Date(*d),
    }
}

pub(super) fn order(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
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

pub(super) fn compare(op: Op, a: &Val<'_>, b: &Val<'_>) -> bool {
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

pub(super) fn truthy(v: &Val<'_>) -> bool {
    matches!(v, Val::Bool(true))
}

impl Node {
    pub(super) fn eval<'a>(&'a self, row: &'a Value, vars: &mut Vec<&'a Value>) -> Val<'a> {
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

pub(super) fn as_str<'v>(v: &'v Val<'_>) -> Option<&'v str> {
    match v {
        Val::Str(s) => Some(s),
        _ => None,
    }
}

pub(super) fn call<'a>(f: Func, a: &[Val<'a>]) -> Val<'a> {
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
