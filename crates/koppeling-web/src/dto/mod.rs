//! Request bodies (JSON → domain, with field-level errors) and responses (domain → JSON).
//!
//! Bodies refuse unknown fields. Amounts come in as strings or numbers and are read from
//! their decimal text, never through a float; amounts go out as strings with two decimals.
//! `koppeling import` reuses these bodies, so a line reads exactly like an API call.
//!
//! By concern: [`parse`] reads a body and holds the shared field types, [`admin`],
//! [`relation`], [`invoice`] and [`settings`] hold the request bodies, [`views`] the
//! responses.

mod admin;
mod invoice;
mod parse;
mod relation;
mod settings;
mod views;

pub use admin::*;
pub use invoice::*;
pub use parse::*;
pub use relation::*;
pub use settings::*;
pub use views::*;

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn amounts_are_read_exactly_from_strings_and_numbers() {
        let body: LineBody =
            from_json(br#"{"quantity": 1.1, "unit_price": "0.1234", "vat": "high"}"#).unwrap();
        assert_eq!(body.quantity.0.to_string(), "1.1");
        assert_eq!(body.unit_price.0.to_string(), "0.1234");
        for (text, want) in [("12.50", "12.50"), ("-3", "-3"), ("1.5e2", "150")] {
            assert_eq!(parse_amount(text).unwrap().to_string(), want, "{text}");
        }
        for bad in ["", "1,5", "abc", ".5", "5.", "1.2.3", " 1", "NaN"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert!(parse_amount("123456789012345678901234567890123").is_err());
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-11-27").is_ok());
        for bad in [
            "2026-1-27",
            "27-11-2026",
            "2026-02-30",
            "2026-11-27T00:00:00",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_errors_name_the_field() {
        let e = from_json::<PutInvoiceBody>(br#"{"number":"1","relation_id":"r","date":"2026-01-01","status":"final","lines":[{"quantity":1,"unit_price":"x","vat":"high"}]}"#).unwrap_err();
        assert_eq!(e.field, "lines[0].unit_price");
        assert_eq!(e.code, "invalid_value");
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a","colour":1}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_field", "colour"));
        // A key that is blank or not a plain name is named as a JSON string, never as blank.
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a"," ":null}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_field", r#"[" "]"#));
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a","a.b":1}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_field", r#"["a.b"]"#));
        let e = from_json::<PutRelationBody>(
            br#"{"code":"1","kind":"company","name":"n","address":{"town":"x"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("unknown_field", "address.town")
        );
        // serde would read a struct from an array of its fields: a body is an object.
        let Err(e) = from_json::<PutSettingsBody>(b" [null, null]") else {
            panic!("an array is no body");
        };
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", ""));
        let e = from_value::<PutSnelstartBody>(serde_json::json!([true])).unwrap_err();
        assert_eq!(e.code, "invalid_type");
        let e = from_json::<PutAdministratieBody>(b"{}").unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("missing_field", "name"));
        let e = from_json::<PutAdministratieBody>(br#"{"name":1}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", "name"));
        let e = from_json::<PutAdministratieBody>(br#"{"name":"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a"} x"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = from_json::<PutInvoiceBody>(
            br#"{"number":"1","relation_id":"r","date":"2026-01-01","status":"sent","lines":[]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "status");
        // A number where an enum is expected is valid JSON of the wrong type, not a syntax error.
        let e = from_json::<PutInvoiceBody>(
            br#"{"number":"1","relation_id":"r","date":"2026-01-01","status":0,"lines":[]}"#,
        )
        .unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", "status"));
        let e =
            from_json::<PutRelationBody>(br#"{"code":"1","kind":true,"name":"n"}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", "kind"));
        // Valid JSON, but a number no integer field can hold.
        let Err(e) = from_json::<PutSettingsBody>(br#"{"sales_journal_code":1e400}"#) else {
            panic!("1e400 is no journal code");
        };
        assert_eq!(e.field, "sales_journal_code", "{e:?}");
        assert_ne!(e.code, "invalid_json");
        // U+0000 cannot be stored (PostgreSQL text): refused, naming the field.
        let e = from_json::<PutRelationBody>(
            br#"{"code":"1","kind":"company","name":"n","address":{"city":"A\u0000"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("invalid_value", "address.city")
        );
        let e =
            from_value::<PutAdministratieBody>(serde_json::json!({"name": "a\u{0}"})).unwrap_err();
        assert_eq!(e.field, "name");
        assert!(from_json::<PutAdministratieBody>(br#"{"name":"a\\u0000"}"#).is_ok());
    }

    #[test]
    fn quantities_keep_their_precision_and_money_has_two_decimals() {
        assert_eq!(exact(Decimal::new(1, 0)), "1.00");
        assert_eq!(exact(Decimal::new(1234, 4)), "0.1234");
        assert_eq!(exact(Decimal::new(250, 2)), "2.50");
        assert_eq!(money(Decimal::new(121, 0)), "121.00");
    }

    #[test]
    fn a_text_of_1000_characters_is_read_and_1001_is_too_long_naming_the_path() {
        let body = |name: &str, city: &str| {
            serde_json::json!({"code": "1", "kind": "company", "name": name,
                "address": {"city": city}})
            .to_string()
        };
        // Characters, not bytes: 1,000 two-byte characters are fine.
        let ok = "é".repeat(1000);
        assert!(from_json::<PutRelationBody>(body(&ok, &ok).as_bytes()).is_ok());
        let long = "a".repeat(1001);
        let e = from_json::<PutRelationBody>(body(&long, "x").as_bytes()).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("too_long", "name"));
        let e = from_json::<PutRelationBody>(body("n", &long).as_bytes()).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("too_long", "address.city"));
        let e = from_value::<PutRelationBody>(serde_json::from_str(&body("n", &long)).unwrap())
            .unwrap_err();
        assert_eq!(e.field, "address.city");
        // The password has its own rule (up to 1024).
        let admin =
            serde_json::json!({"name": "B", "email": "b@x.nl", "password": "p".repeat(1024)});
        assert!(from_json::<PutAdminBody>(admin.to_string().as_bytes()).is_ok());
    }
}
