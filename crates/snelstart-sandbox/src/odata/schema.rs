//! The filterable properties of each model (UpperCamelCase name → camelCase JSON key).

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

pub(super) const fn p(name: &'static str, key: &'static str, kind: Kind) -> Prop {
    Prop { name, key, kind }
}

pub static REF: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.IdentifierModel",
    props: &[p("Id", "id", Kind::Guid)],
};

pub(super) static ADRES: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.AdresModel",
    props: &[
        p("Contactpersoon", "contactpersoon", Kind::Str),
        p("Straat", "straat", Kind::Str),
        p("Postcode", "postcode", Kind::Str),
        p("Plaats", "plaats", Kind::Str),
        p("Land", "land", Kind::Obj(&REF)),
    ],
};

pub(super) static EMAIL_VERSTUREN: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.EmailVersturenModel",
    props: &[
        p("ShouldSend", "shouldSend", Kind::Bool),
        p("Email", "email", Kind::Str),
        p("CcEmail", "ccEmail", Kind::Str),
    ],
};

pub(super) static DOCUMENT: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Documenten.DocumentModel",
    props: &[
        p("ParentIdentifier", "parentIdentifier", Kind::Guid),
        p("FileName", "fileName", Kind::Str),
        p("ReadOnly", "readOnly", Kind::Bool),
        p("Id", "id", Kind::Guid),
    ],
};

pub(super) static EXTRA_VELD: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Relaties.ExtraVeldRelatieModel",
    props: &[
        p("Naam", "naam", Kind::Str),
        p("Waarde", "waarde", Kind::Str),
    ],
};

pub(super) static RGS: Schema = Schema {
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

pub(super) static VERANTWOORDING: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Kasboekingen.VerkoopBoekingVerantwoordingsRegelModel",
    props: &[
        p("BoekingId", "boekingId", Kind::Obj(&REF)),
        p("Omschrijving", "omschrijving", Kind::Str),
        p("Debet", "debet", Kind::Dec),
        p("Credit", "credit", Kind::Dec),
    ],
};

pub(super) static GROOTBOEK_REGEL: Schema = Schema {
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

pub(super) static BTW_REGEL: Schema = Schema {
    type_name: "SnelStart.B2B.Api.V2.Models.Kasboekingen.BtwBoekingregelModel",
    props: &[
        p("Debet", "debet", Kind::Dec),
        p("Credit", "credit", Kind::Dec),
        p("Type", "type", Kind::Str),
        p("Tarief", "tarief", Kind::Str),
    ],
};

/// The properties bank and cash bookings share.
pub(super) const KAS_BANK_PROPS: &[Prop] = &[
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

pub(super) fn find(schema: &'static Schema, name: &str) -> Option<&'static Prop> {
    schema.props.iter().find(|p| p.name == name)
}
