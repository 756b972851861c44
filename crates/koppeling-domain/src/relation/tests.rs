//! Tests of the relation rules: codes, limits, IBAN and VAT number checks.

use super::*;

fn relation(code: &str) -> Relation {
    Relation {
        id: ResourceId::parse("r").unwrap(),
        kind: RelationKind::Person,
        name: "Jan Jansen".into(),
        address: Some(Address {
            street: Some("Dorpsstraat".into()),
            house_number: Some("1a".into()),
            postcode: Some("1234 AB".into()),
            city: Some("Alkmaar".into()),
            country: None,
        }),
        ..crate::testkit::relation(code)
    }
}

#[test]
fn relation_codes() {
    let cases = [
        ("1", Ok(1)),
        ("007", Ok(7)),
        ("2147483647", Ok(2_147_483_647)),
        ("2147483648", Err("code_out_of_range")),
        ("0", Err("code_out_of_range")),
        ("A12", Err("code_not_numeric")),
        ("12 ", Err("code_not_numeric")),
        ("-5", Err("code_not_numeric")),
        ("", Err("code_not_numeric")),
    ];
    for (raw, want) in cases {
        let got = RelatieCode::parse(raw)
            .map(RelatieCode::get)
            .map_err(|p| p.code());
        assert_eq!(got, want, "{raw:?}");
    }
}

#[test]
fn the_relatie_is_built_from_the_relation() {
    let data = plan_relatie(&relation("42")).unwrap();
    assert_eq!(data.code.get(), 42);
    assert_eq!(data.street.as_deref(), Some("Dorpsstraat 1a"));
    assert_eq!(data.country, "NL");
}

#[test]
fn values_snelstart_cannot_hold_are_refused_not_cut() {
    let check = |mutate: &dyn Fn(&mut Relation), field: &str| {
        let mut r = relation("1");
        mutate(&mut r);
        let problems = plan_relatie(&r).unwrap_err();
        assert!(
            problems.iter().any(|p| p.field == field),
            "{field}: {problems:?}"
        );
    };
    check(&|r| r.name = "n".repeat(51), "name");
    check(
        &|r| r.address.as_mut().unwrap().street = Some("s".repeat(49)),
        "address.street",
    );
    check(
        &|r| r.address.as_mut().unwrap().postcode = Some("p".repeat(26)),
        "address.postcode",
    );
    check(&|r| r.address.as_mut().unwrap().city = None, "address");
    check(&|r| r.phone = Some("0".repeat(26)), "phone");
    check(&|r| r.coc_number = Some("1".repeat(13)), "coc_number");
    check(&|r| r.iban = Some("NL91ABNA0417164301".into()), "iban");
    check(
        &|r| r.vat_number = Some("NL12345678B01".into()),
        "vat_number",
    );
    check(&|r| r.code = "X1".into(), "code");
    let mut ok = relation("1");
    ok.name = "n".repeat(50);
    ok.iban = Some("NL91 ABNA 0417 1643 00".into());
    ok.vat_number = Some("NL123456789B01".into());
    let data = plan_relatie(&ok).unwrap();
    assert_eq!(data.iban.as_deref(), Some("NL91ABNA0417164300"));
}

#[test]
fn iban_checksums() {
    assert!(iban_is_valid("NL91ABNA0417164300"));
    assert!(iban_is_valid("DE89370400440532013000"));
    assert!(!iban_is_valid("NL91ABNA0417164301"));
    assert!(!iban_is_valid("NL91"));
}

#[test]
fn the_fingerprint_changes_with_the_data() {
    let a = plan_relatie(&relation("1")).unwrap();
    let mut changed = relation("1");
    changed.email = Some("x@y.nl".into());
    let b = plan_relatie(&changed).unwrap();
    assert_eq!(
        a.fingerprint(),
        plan_relatie(&relation("1")).unwrap().fingerprint()
    );
    assert_ne!(a.fingerprint(), b.fingerprint());
}
