//! The recursive-descent `$filter` parser, typed against the model.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    i: usize,
    root: &'static Schema,
    scopes: Vec<(String, Kind)>,
    depth: usize,
}

/// Nesting limit for `$filter` expressions (OData's default recursion limit is 100).
pub(super) const MAX_DEPTH: usize = 100;

pub(super) type PResult<T> = Result<T, String>;

impl Parser<'_> {
    pub(super) fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.0)
    }

    pub(super) fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.src.len(), |t| t.1)
    }

    pub(super) fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.i += 1;
        t
    }

    pub(super) fn syntax(&self) -> String {
        format!("Syntax error at position {} in '{}'.", self.pos(), self.src)
    }

    pub(super) fn expect(&mut self, t: &Tok) -> PResult<()> {
        if self.peek() == t {
            self.i += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    pub(super) fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    pub(super) fn parse_or(&mut self) -> PResult<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("The recursion limit has been exceeded.".into());
        }
        let result = self.parse_or_inner();
        self.depth -= 1;
        result
    }

    pub(super) fn parse_or_inner(&mut self) -> PResult<Node> {
        let mut left = self.parse_and()?;
        while self.keyword("or") {
            self.i += 1;
            let right = self.parse_and()?;
            bool_operands(&left, &right, "Or")?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn parse_and(&mut self) -> PResult<Node> {
        let mut left = self.parse_not()?;
        while self.keyword("and") {
            self.i += 1;
            let right = self.parse_not()?;
            bool_operands(&left, &right, "And")?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn parse_not(&mut self) -> PResult<Node> {
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

    pub(super) fn parse_cmp(&mut self) -> PResult<Node> {
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

    pub(super) fn parse_primary(&mut self) -> PResult<Node> {
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

    pub(super) fn typed(&self, prefix: &str, content: &str, pos: usize) -> PResult<Lit> {
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

    pub(super) fn function(&mut self, name: &str) -> PResult<Node> {
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

    pub(super) fn path(&mut self, first: &str) -> PResult<Node> {
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

pub(super) fn bool_operands(a: &Node, b: &Node, op: &str) -> PResult<()> {
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

pub(super) fn number(text: &str) -> Option<Lit> {
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

/// An `$orderby` property path (`Naam`, `VestigingsAdres/Plaats`) parsed as a filter operand.
pub(super) fn parse_filter_path(path: &str, schema: &'static Schema) -> Result<Node, String> {
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
