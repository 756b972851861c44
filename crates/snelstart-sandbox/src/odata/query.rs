//! The query options `$top`, `$skip`, `$orderby`, `$select` (paging) and rendering the rows.

#[allow(clippy::wildcard_imports)]
use super::*;

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
